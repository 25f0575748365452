// `ingestd gc [--apply] [--json]`: what nothing live holds any more (docs/operations/
// maintenance.md): blobs only deleted documents held, cached parses of bytes no live document
// has, and vectors of texts no chunk has. A dry run by default: it counts and prints; --apply
// deletes. Deleting a cached parse or vector means paying again if the same bytes or text come
// back, which is why nothing does this automatically.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/app/cli_audit.h"
#include "ingest/pipeline/delete_document.h"
#include "ingest/store/blob_store.h"

namespace ingest::app {
namespace {

struct GcArgs {
  bool apply = false;
  bool json = false;
};

std::string Mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

int RunGc(const GlobalOptions& global, const GcArgs& args) {
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "ingestd: gc: %s\n", s.message().c_str());
    return 1;
  };
  auto config = LoadConfigFor(global);
  if (!config.ok()) return fail(config.status());
  auto store = OpenExistingStore(*config, Clock::Real());
  if (!store.ok()) return fail(store.status());
  store::Store& s = **store;

  auto orphans = s.ListOrphanBlobs(0);
  if (!orphans.ok()) return fail(orphans.status());
  auto unheld = s.CountUnheldContent();
  if (!unheld.ok()) return fail(unheld.status());
  int64_t blobs = static_cast<int64_t>(orphans->size());
  store::UnheldContent rows = *unheld;
  if (args.apply) {
    auto blob_store = OpenBlobStore(*config);
    if (!blob_store.ok()) return fail(blob_store.status());
    auto removed = pipeline::PurgeOrphanBlobs(s, **blob_store);
    if (!removed.ok()) return fail(removed.status());
    blobs = *removed;
    rows = {};
    constexpr int kBatch = 5000;  // rows of each kind per transaction
    for (;;) {
      auto batch = s.DeleteUnheldContent(kBatch);
      if (!batch.ok()) {
        AuditCli(s, "gc.apply", "store", {{"blobs", blobs}}, batch.status());
        return fail(batch.status());
      }
      rows.parses += batch->parses;
      rows.parse_bytes += batch->parse_bytes;
      rows.vectors += batch->vectors;
      rows.vector_bytes += batch->vector_bytes;
      if (batch->parses < kBatch && batch->vectors < kBatch) break;
    }
    AuditCli(s, "gc.apply", "store",
             {{"blobs", blobs}, {"parses", rows.parses}, {"vectors", rows.vectors}}, Status::Ok());
  }
  if (args.json) {
    nlohmann::json out{
        {"dry_run", !args.apply},
        {"blobs", {{"count", blobs}}},
        {"parses", {{"count", rows.parses}, {"bytes", rows.parse_bytes}}},
        {"vectors", {{"count", rows.vectors}, {"bytes", rows.vector_bytes}}},
    };
    std::puts(out.dump(2).c_str());
    return 0;
  }
  const char* verb = args.apply ? "deleted" : "would delete";
  std::printf("%s:\n", args.apply ? "gc" : "gc (dry run; --apply deletes)");
  std::printf("  %-44s %s %lld\n", "blobs held only by deleted documents", verb,
              static_cast<long long>(blobs));
  std::printf("  %-44s %s %lld (%s)\n", "cached parses of bytes no live document has", verb,
              static_cast<long long>(rows.parses), Mib(rows.parse_bytes).c_str());
  std::printf("  %-44s %s %lld (%s)\n", "vectors of texts no chunk has", verb,
              static_cast<long long>(rows.vectors), Mib(rows.vector_bytes).c_str());
  if (!args.apply && (rows.parses > 0 || rows.vectors > 0)) {
    std::printf(
        "note: a deleted parse or vector is paid for again if the same bytes or text come "
        "back\n");
  }
  return 0;
}

}  // namespace

void AddGcCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<GcArgs>();
  CLI::App* cmd = app.add_subcommand(
      "gc", "Blobs, cached parses and vectors nothing live holds (dry run unless --apply)");
  cmd->add_flag("--apply", args->apply, "Delete them (default: count and print only)");
  cmd->add_flag("--json", args->json, "JSON output");
  cmd->callback([&global, exit_code, args] { *exit_code = RunGc(global, *args); });
}

}  // namespace ingest::app
