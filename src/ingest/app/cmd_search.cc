// `ingestd search QUERY [-k N] [--offset N] [--mode hybrid|vector|lexical] [--space MODEL]
// [--json]`: search in one embedding space of the store: the configured embedder's when chosen
// explicitly, else the only space the store's documents are indexed in (several: an error
// naming them). Hybrid (the default) fuses the exact cosine ranking with the full-text one;
// lexical needs no embedder at all (no query is embedded, nothing is spent). A store that does
// not exist or holds nothing searchable is an error on stderr (exit 1), never an empty answer.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/embed/embedder.h"
#include "ingest/embed/openai/openai_embedder.h"
#include "ingest/pipeline/pipeline_deps.h"
#include "ingest/pipeline/query_embedding.h"
#include "ingest/search/hit_json.h"
#include "ingest/search/hybrid_search.h"
#include "ingest/search/space_choice.h"
#include "ingest/search/vector_search.h"
#include "ingest/store/metadata.h"

namespace ingest::app {
namespace {

struct SearchArgs {
  std::string query;
  int k = search::kDefaultResults;
  std::string space;
  bool json = false;
  std::string tenant;
  std::vector<std::string> filters;  // --filter KEY=VALUE (metadata, repeatable)
  std::string external_id_prefix;
  std::string mode = "hybrid";
  int offset = 0;
  bool exact = false;
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

// The configuration whose embedder embeds queries in `space`: the local lexical embedder for
// lexical-v1, the OpenAI(-compatible) embedder for anything else ("mock:MODEL" under mode mock).
config::Config ConfigForSpace(config::Config config, const store::VectorSpace& space) {
  std::string model = space.model;
  if (model == "lexical-v1") {
    config.embed.provider = "local";
    config.embed.dimensions = space.dimensions;
    return config;
  }
  if (model.rfind("mock:", 0) == 0) {
    model = model.substr(5);
    config.mode = "mock";
  }
  config.embed.provider = "openai";
  config.embed.model = model;
  const std::optional<int> native = embed::OpenAiEmbedder::NativeDimensions(model);
  config.embed.dimensions = native && *native == space.dimensions ? 0 : space.dimensions;
  return config;
}

bool ChosenExplicitly(const config::Config& config) {
  for (const char* key : {"embed.provider", "embed.model", "embed.dimensions"}) {
    auto it = config.origins.find(key);
    if (it != config.origins.end() && it->second.rfind("default", 0) != 0) return true;
  }
  return false;
}

constexpr std::string_view kHowToChoose =
    "Choose one with --space MODEL, or configure the embedder that wrote it (embed.provider, "
    "embed.model, embed.dimensions; env INGESTD_EMBEDDER, INGESTD_EMBED_MODEL)";

// The answer: a JSON array (--json), or a numbered list with one line of context per hit.
int PrintHits(const SearchArgs& args, const std::vector<search::SearchHit>& hits,
              const std::string& what) {
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& h : hits) out.push_back(search::SearchHitJson(h));
    std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("%zu %s in %s\n", hits.size(), hits.size() == 1 ? "result" : "results", what.c_str());
  auto pages = [](int start, int end) {
    return start == end ? "p." + std::to_string(start)
                        : "pp." + std::to_string(start) + "-" + std::to_string(end);
  };
  int rank = args.offset;
  for (const auto& h : hits) {
    std::printf("\n%d. %.4f  %s  %s%s%s%s\n   %s\n", ++rank, h.score, h.filename.c_str(),
                pages(h.page_start, h.page_end).c_str(), h.heading_path.empty() ? "" : "  ",
                h.heading_path.c_str(), h.table_of_contents ? "  (table of contents)" : "",
                Snippet(h.text, 240).c_str());
    // The same text elsewhere: one result, every place listed.
    for (const auto& t : h.also_in) {
      std::printf("   also in %s  %s\n", t.filename.c_str(),
                  pages(t.page_start, t.page_end).c_str());
    }
  }
  return 0;
}

int RunSearch(const GlobalOptions& global, const SearchArgs& args) {
  auto config = LoadConfigFor(global);
  if (!config.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", config.status().message().c_str());
    return 1;
  }
  std::string tenant = args.tenant.empty() ? config->pipeline.tenant : args.tenant;
  store::IndexFilter filter;
  filter.tenant = tenant;
  for (const std::string& f : args.filters) {
    auto m = store::ParseMetadataEquals(f);
    if (!m.ok()) {
      std::fprintf(stderr, "ingestd: --filter: %s\n", m.status().message().c_str());
      return 2;
    }
    filter.metadata.push_back(std::move(m).value());
  }
  if (!args.external_id_prefix.empty()) filter.external_id_prefix = args.external_id_prefix;
  auto mode = search::ParseSearchMode(args.mode);
  if (!mode.ok()) {
    std::fprintf(stderr, "ingestd: --mode: %s\n", mode.status().message().c_str());
    return 2;
  }
  // Which space to search: the store says which it holds (never created here: an empty answer
  // from a store that does not exist would only mislead).
  std::vector<store::IndexedSpace> held;
  {
    auto store = OpenExistingStore(*config, Clock::Real());
    if (!store.ok()) {
      std::fprintf(stderr, "ingestd: %s\n", store.status().message().c_str());
      return 1;
    }
    auto spaces = (*store)->ListIndexedSpaces(std::string_view(tenant));
    if (!spaces.ok()) {
      std::fprintf(stderr, "ingestd: %s\n", spaces.status().ToString().c_str());
      return 1;
    }
    held = std::move(spaces).value();
  }
  if (held.empty()) {
    std::fprintf(stderr,
                 "ingestd: the store at %s holds no searchable documents for tenant \"%s\"; "
                 "ingest some first (`ingestd ingest PATH...`)\n",
                 config->store.url.c_str(), tenant.c_str());
    return 1;
  }
  search::SearchRequest request;
  request.mode = *mode;
  request.text = args.query;
  request.k = args.k;
  request.offset = args.offset;
  request.filter = filter;
  if (!search::NeedsQueryVector(*mode)) {
    // Nothing to embed: the store alone answers, whatever embedder is configured.
    if (!args.space.empty()) {
      auto chosen =
          search::ChooseSearchSpace(held, store::VectorSpace{args.space, 0}, kHowToChoose);
      if (!chosen.ok()) {
        std::fprintf(stderr, "ingestd: %s\n", chosen.status().message().c_str());
        return 1;
      }
      request.space = *chosen;
    }
    auto store = OpenExistingStore(*config, Clock::Real());
    if (!store.ok()) {
      std::fprintf(stderr, "ingestd: %s\n", store.status().message().c_str());
      return 1;
    }
    auto hits = search::SearchChunks(**store, request);
    if (!hits.ok()) {
      std::fprintf(stderr, "ingestd: search failed: %s\n", hits.status().ToString().c_str());
      return 1;
    }
    return PrintHits(args, *hits, "the full-text index, lexical search (nothing embedded)");
  }
  config::Config effective = *config;
  if (!args.space.empty()) {
    auto chosen = search::ChooseSearchSpace(held, store::VectorSpace{args.space, 0}, kHowToChoose);
    if (!chosen.ok()) {
      std::fprintf(stderr, "ingestd: %s\n", chosen.status().message().c_str());
      return 1;
    }
    effective = ConfigForSpace(*config, *chosen);
  } else if (!ChosenExplicitly(*config)) {
    auto chosen = search::ChooseSearchSpace(held, std::nullopt, kHowToChoose);
    if (!chosen.ok()) {
      std::fprintf(stderr, "ingestd: %s\n", chosen.status().message().c_str());
      return 1;
    }
    effective = ConfigForSpace(*config, *chosen);
  }
  auto app = App::Open(effective);
  if (!app.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", app.status().ToString().c_str());
    return 1;
  }
  const embed::Embedder& embedder = (*app)->embedder();
  if (auto held_space = search::ChooseSearchSpace(held, embedder.Space(), kHowToChoose);
      !held_space.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", held_space.status().message().c_str());
    return 1;
  }
  // Through the governor, billed to `tenant`, with the store's query vector cache; over a hard
  // budget nothing is sent and the message names the budget and when it resets.
  auto embedded = pipeline::EmbedQuery((*app)->Deps(), args.query, tenant, /*metrics=*/nullptr);
  if (!embedded.ok()) {
    std::fprintf(stderr, "ingestd: cannot embed the query: %s\n",
                 embedded.status().ToString().c_str());
    return 1;
  }
  request.vector = embedded->values;
  request.space = embedder.Space();
  auto hits = search::SearchChunks((*app)->store(), request);
  if (!hits.ok()) {
    std::fprintf(stderr, "ingestd: search failed: %s\n", hits.status().ToString().c_str());
    return 1;
  }
  return PrintHits(args, *hits,
                   embedder.Space().model + " (" + embedder.Describe() + "), " +
                       std::string(search::SearchModeName(*mode)) + " search");
}

}  // namespace

void AddSearchCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<SearchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "search", "Chunks best matching QUERY (hybrid: full text + exact cosine; --mode)");
  cmd->add_option("query", args->query, "Query text")->required();
  cmd->add_option("-k", args->k, "Number of results (default 5, at most 100)")
      ->check(CLI::Range(1, search::kMaxResults))
      ->capture_default_str();
  cmd->add_option("--space", args->space,
                  "Embedding space (model) to search, when the store holds several (default: "
                  "the only one, or the configured embedder's)");
  cmd->add_flag("--json", args->json, "JSON array output");
  cmd->add_option("--tenant", args->tenant, "Tenant to search (default: pipeline.tenant)");
  cmd->add_option("--filter", args->filters,
                  "Only documents whose metadata has KEY equal to VALUE (repeatable: all must "
                  "hold; VALUE typed as in `ingest --meta`)")
      ->allow_extra_args(false);
  cmd->add_option("--external-id-prefix", args->external_id_prefix,
                  "Only documents whose external_id starts with this");
  cmd->add_option("--offset", args->offset, "Results to skip (pagination; at most 1000)")
      ->check(CLI::Range(0, search::kMaxOffset))
      ->capture_default_str();
  cmd->add_option("--mode", args->mode,
                  "hybrid (full text and vectors, fused by reciprocal rank), vector (exact "
                  "cosine) or lexical (full text only: embeds nothing)")
      ->check(CLI::IsMember({"hybrid", "vector", "lexical"}))
      ->capture_default_str();
  cmd->add_flag("--exact", args->exact,
                "Exact scan of every vector (the only vector search built so far, so the "
                "default too)");
  cmd->callback([&global, exit_code, args] { *exit_code = RunSearch(global, *args); });
}

}  // namespace ingest::app
