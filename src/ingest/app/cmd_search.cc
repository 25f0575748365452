// `ingestd search QUERY [-k N] [--json]`: exact cosine search in the configured model's space.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/embed/embedder.h"
#include "ingest/search/vector_search.h"

namespace ingest::app {
namespace {

struct SearchArgs {
  std::string query;
  int k = 5;
  bool json = false;
  std::string tenant;
};

// One line of context for terminal output: whitespace collapsed, cut at a UTF-8 boundary.
std::string Snippet(const std::string& text, size_t max_bytes) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= max_bytes) break;
  }
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
  if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80)) out.pop_back();
  return out.size() < text.size() ? out + "..." : out;
}

int RunSearch(const GlobalOptions& global, const SearchArgs& args) {
  auto config = LoadConfigFor(global);
  if (!config.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", config.status().message().c_str());
    return 1;
  }
  auto app = App::Open(*config);
  if (!app.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", app.status().ToString().c_str());
    return 1;
  }
  const embed::Embedder& embedder = (*app)->embedder();
  std::string query = args.query;
  auto embedded = embedder.Embed(std::span<const std::string>(&query, 1));
  if (!embedded.ok()) {
    std::fprintf(stderr, "ingestd: cannot embed the query: %s\n",
                 embedded.status().ToString().c_str());
    return 1;
  }
  std::string tenant = args.tenant.empty() ? config->pipeline.tenant : args.tenant;
  auto hits = search::SearchExact((*app)->store(), embedder.Space(), embedded->vectors[0], args.k,
                                  std::string_view(tenant));
  if (!hits.ok()) {
    std::fprintf(stderr, "ingestd: search failed: %s\n", hits.status().ToString().c_str());
    return 1;
  }
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& h : *hits) {
      out.push_back({{"document_id", h.document_id},
                     {"chunk_id", h.chunk_id},
                     {"filename", h.filename},
                     {"page_start", h.page_start},
                     {"page_end", h.page_end},
                     {"heading_path", h.heading_path},
                     {"score", h.score},
                     {"text", h.text}});
    }
    std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("%zu results in %s (%s)\n", hits->size(), embedder.Space().model.c_str(),
              embedder.Describe().c_str());
  int rank = 0;
  for (const auto& h : *hits) {
    std::string pages = h.page_start == h.page_end ? "p." + std::to_string(h.page_start)
                                                   : "pp." + std::to_string(h.page_start) + "-" +
                                                         std::to_string(h.page_end);
    std::printf("\n%d. %.4f  %s  %s%s%s\n   %s\n", ++rank, h.score, h.filename.c_str(),
                pages.c_str(), h.heading_path.empty() ? "" : "  ", h.heading_path.c_str(),
                Snippet(h.text, 240).c_str());
  }
  return 0;
}

}  // namespace

void AddSearchCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<SearchArgs>();
  CLI::App* cmd = app.add_subcommand("search", "Nearest chunks to QUERY (exact cosine)");
  cmd->add_option("query", args->query, "Query text")->required();
  cmd->add_option("-k", args->k, "Number of results")->check(CLI::Range(1, 1000));
  cmd->add_flag("--json", args->json, "JSON array output");
  cmd->add_option("--tenant", args->tenant, "Tenant to search (default: pipeline.tenant)");
  cmd->callback([&global, exit_code, args] { *exit_code = RunSearch(global, *args); });
}

}  // namespace ingest::app
