// `ingestd documents list|show|chunks|delete`: the collection as users keep it
// (docs/documents.md). Lists show live documents only; delete removes a document's chunks,
// vectors, index entries and (when nothing else holds them) its parse and blob, keeping ledger
// rows and events.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/app/cli_audit.h"
#include "ingest/pipeline/delete_document.h"
#include "ingest/pipeline/document_json.h"
#include "ingest/store/blob_store.h"
#include "ingest/store/metadata.h"

namespace ingest::app {
namespace {

struct DocumentsArgs {
  std::string id;
  std::string external_id;
  std::string external_id_prefix;
  std::string state;
  std::vector<std::string> meta;
  std::string created_after, created_before;
  std::string cursor;
  std::string tenant;
  int limit = 100;
  int offset = 0;
  bool json = false;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "ingestd: %s\n", s.message().c_str());
  return 1;
}

void PrintJson(const nlohmann::json& j) {
  std::puts(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

struct Opened {
  config::Config config;
  std::unique_ptr<store::Store> store;
  std::string tenant;
};

Result<Opened> Open(const GlobalOptions& global, const DocumentsArgs& args) {
  Opened o;
  INGEST_ASSIGN_OR_RETURN(o.config, LoadConfigFor(global));
  INGEST_ASSIGN_OR_RETURN(o.store, OpenExistingStore(o.config, Clock::Real()));
  o.tenant = args.tenant.empty() ? o.config.pipeline.tenant : args.tenant;
  return o;
}

// The live document named by ID or --external-id (its newest live version), in the tenant.
Result<store::Document> Resolve(store::Store& store, const std::string& tenant,
                                const DocumentsArgs& args) {
  if (args.id.empty() == args.external_id.empty()) {
    return InvalidArgument("name the document by ID or by --external-id, one of them", "usage");
  }
  if (!args.id.empty()) {
    auto doc = store.GetDocument(args.id);
    if (!doc.ok() || doc->deleted_at != 0 || doc->tenant != tenant) {
      if (doc.ok() || doc.status().code() == StatusCode::kNotFound) {
        return NotFound("no document " + args.id + " in tenant \"" + tenant + "\"",
                        "document_not_found");
      }
      return doc.status();
    }
    return doc;
  }
  store::DocumentFilter f;
  f.tenant = tenant;
  f.external_id = args.external_id;
  f.limit = 0;
  INGEST_ASSIGN_OR_RETURN(std::vector<store::DocumentListing> rows, store.ListDocuments(f));
  if (rows.empty()) {
    return NotFound(
        "no document with external_id \"" + args.external_id + "\" in tenant \"" + tenant + "\"",
        "document_not_found");
  }
  const store::DocumentListing* newest = &rows.front();
  for (const auto& r : rows) {
    if (r.document.version > newest->document.version) newest = &r;
  }
  return newest->document;
}

int List(const GlobalOptions& global, const DocumentsArgs& args) {
  auto o = Open(global, args);
  if (!o.ok()) return Fail(o.status());
  store::DocumentFilter f;
  f.tenant = o->tenant;
  f.limit = args.limit + 1;
  if (!args.state.empty()) {
    auto s = store::ParseJobState(args.state);
    if (!s.ok()) return Fail(s.status());
    f.state = *s;
  }
  if (!args.external_id.empty()) f.external_id = args.external_id;
  if (!args.external_id_prefix.empty()) f.external_id_prefix = args.external_id_prefix;
  for (const std::string& kv : args.meta) {
    auto m = store::ParseMetadataEquals(kv);
    if (!m.ok()) return Fail(m.status());
    f.metadata.push_back(std::move(m).value());
  }
  for (auto [text, bound] : {std::pair{&args.created_after, &f.created_from},
                             std::pair{&args.created_before, &f.created_until}}) {
    if (text->empty()) continue;
    auto t = pipeline::ParseTimeBound(*text);
    if (!t.ok()) return Fail(t.status());
    *bound = *t;
  }
  if (!args.cursor.empty()) {
    auto c = pipeline::ParseDocumentCursor(args.cursor);
    if (!c.ok()) return Fail(c.status());
    f.before = *c;
  }
  auto rows = o->store->ListDocuments(f);
  if (!rows.ok()) return Fail(rows.status());
  const size_t page = static_cast<size_t>(args.limit);
  std::optional<std::string> next;
  if (rows->size() > page) {
    next = pipeline::DocumentCursor((*rows)[page - 1].document);
    rows->resize(page);
  }
  if (args.json) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& r : *rows) items.push_back(pipeline::DocumentJson(r.document, r.job));
    PrintJson({{"documents", items},
               {"next_cursor", next ? nlohmann::json(*next) : nlohmann::json(nullptr)}});
    return 0;
  }
  std::printf("%-36s  %-9s  %3s  %s\n", "DOCUMENT", "STATE", "VER", "NAME");
  for (const auto& r : *rows) {
    const std::string& name =
        r.document.external_id.empty() ? r.document.filename : r.document.external_id;
    std::printf("%-36s  %-9s  %3d  %s\n", r.document.id.c_str(),
                r.job ? std::string(store::JobStateName(r.job->state)).c_str() : "-",
                r.document.version, name.c_str());
  }
  if (next) std::printf("more: --cursor %s\n", next->c_str());
  return 0;
}

int Show(const GlobalOptions& global, const DocumentsArgs& args) {
  auto o = Open(global, args);
  if (!o.ok()) return Fail(o.status());
  auto doc = Resolve(*o->store, o->tenant, args);
  if (!doc.ok()) return Fail(doc.status());
  // One snapshot (Store::GetDocumentDetail): the document, its newest job and its chunk count
  // belong together, and no chunk text is read to count them.
  auto detail = o->store->GetDocumentDetail(doc->id);
  if (!detail.ok()) return Fail(detail.status());
  std::optional<store::Job> job;
  if (detail->job) job = detail->job->job;
  nlohmann::json out = pipeline::DocumentJson(detail->document, job);
  out["chunks"] = detail->chunks;
  if (args.json) {
    PrintJson(out);
    return 0;
  }
  for (const auto& [k, v] : out.items()) {
    std::printf("%-12s %s\n", k.c_str(),
                v.is_string() ? v.get<std::string>().c_str() : v.dump().c_str());
  }
  return 0;
}

int Chunks(const GlobalOptions& global, const DocumentsArgs& args) {
  auto o = Open(global, args);
  if (!o.ok()) return Fail(o.status());
  auto doc = Resolve(*o->store, o->tenant, args);
  if (!doc.ok()) return Fail(doc.status());
  auto chunks = o->store->ListChunks(doc->id);
  if (!chunks.ok()) return Fail(chunks.status());
  const nlohmann::json metadata = pipeline::MetadataObject(doc->metadata_json);
  nlohmann::json items = nlohmann::json::array();
  for (size_t i = static_cast<size_t>(args.offset);
       i < chunks->size() && i < static_cast<size_t>(args.offset + args.limit); ++i) {
    items.push_back(pipeline::ChunkJson((*chunks)[i], metadata));
  }
  if (args.json) {
    PrintJson({{"document_id", doc->id}, {"total", chunks->size()}, {"chunks", items}});
    return 0;
  }
  for (const auto& c : items) {
    std::printf("#%d  pp.%d-%d  %d tokens  %s\n%s\n\n", c["ordinal"].get<int>(),
                c["page_start"].get<int>(), c["page_end"].get<int>(), c["token_count"].get<int>(),
                c["heading_path"].get<std::string>().c_str(), c["text"].get<std::string>().c_str());
  }
  return 0;
}

int Delete(const GlobalOptions& global, const DocumentsArgs& args) {
  auto o = Open(global, args);
  if (!o.ok()) return Fail(o.status());
  auto doc = Resolve(*o->store, o->tenant, args);
  if (!doc.ok()) return Fail(doc.status());
  auto blobs = OpenBlobStore(o->config);
  if (!blobs.ok()) return Fail(blobs.status());
  pipeline::PipelineDeps deps;
  deps.store = o->store.get();
  deps.blobs = blobs->get();
  deps.clock = Clock::Real();
  auto out = pipeline::DeleteDocument(deps, doc->id);
  AuditCli(*o->store, "document.delete", doc->id, {{"tenant", doc->tenant}},
           out.ok() ? Status::Ok() : out.status());
  if (!out.ok()) return Fail(out.status());
  nlohmann::json j = {{"document_id", doc->id},
                      {"external_id", doc->external_id},
                      {"chunks", out->deleted.chunks},
                      {"vectors", out->deleted.vectors},
                      {"jobs_cancelled", out->jobs_cancelled},
                      {"parse_removed", out->deleted.parse_removed},
                      {"blobs_removed", out->blobs_removed}};
  if (args.json) {
    PrintJson(j);
  } else {
    std::printf("deleted %s (%lld chunks, %lld vectors, %lld blob(s); %lld job(s) cancelled)\n",
                doc->id.c_str(), static_cast<long long>(out->deleted.chunks),
                static_cast<long long>(out->deleted.vectors),
                static_cast<long long>(out->blobs_removed),
                static_cast<long long>(out->jobs_cancelled));
  }
  return 0;
}

}  // namespace

void AddDocumentsCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<DocumentsArgs>();
  CLI::App* cmd = app.add_subcommand("documents", "List, show and delete documents");
  cmd->require_subcommand(1);
  auto common = [&](CLI::App* sub) {
    sub->add_option("--tenant", args->tenant, "Tenant (default: pipeline.tenant)");
    sub->add_flag("--json", args->json, "JSON output");
  };
  CLI::App* list = cmd->add_subcommand("list", "Live documents, newest first");
  common(list);
  list->add_option("--state", args->state, "Only documents whose newest job is in this state");
  list->add_option("--external-id", args->external_id, "Only this external_id");
  list->add_option("--external-id-prefix", args->external_id_prefix,
                   "Only external_ids starting with this");
  list->add_option("--meta", args->meta, "Only metadata KEY=VALUE (repeatable)")
      ->allow_extra_args(false);
  list->add_option("--created-after", args->created_after,
                   "Created at or after (YYYY-MM-DD, ISO-8601 or Unix ms)");
  list->add_option("--created-before", args->created_before, "Created before");
  list->add_option("--limit", args->limit, "Page size")->check(CLI::Range(1, 1000));
  list->add_option("--cursor", args->cursor, "Next page (from the previous page's output)");
  list->callback([&global, exit_code, args] { *exit_code = List(global, *args); });

  for (auto [name, help] :
       {std::pair{"show", "One document"}, std::pair{"chunks", "A document's chunks, in order"},
        std::pair{"delete",
                  "Delete a document: chunks, vectors, index "
                  "entries, parse and blob (ledger rows stay)"}}) {
    CLI::App* sub = cmd->add_subcommand(name, help);
    common(sub);
    sub->add_option("id", args->id, "Document id");
    sub->add_option("--external-id", args->external_id,
                    "The document with this external_id (its newest version)");
    if (std::string_view(name) == "chunks") {
      sub->add_option("--offset", args->offset, "Skip this many chunks")
          ->check(CLI::NonNegativeNumber);
      sub->add_option("--limit", args->limit, "At most this many chunks")
          ->check(CLI::Range(1, 1000000));
    }
    const std::string n = name;
    sub->callback([&global, exit_code, args, n] {
      *exit_code = n == "show"     ? Show(global, *args)
                   : n == "chunks" ? Chunks(global, *args)
                                   : Delete(global, *args);
    });
  }
}

}  // namespace ingest::app
