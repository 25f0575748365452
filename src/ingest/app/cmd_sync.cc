// `ingestd sync DIR [--delete] [--dry-run] [--json]`: makes the tenant's documents mirror a
// folder, keyed by each file's absolute path as external_id (docs/guide/documents.md): new
// files are ingested, changed files become new versions, and with --delete the documents of
// files that are gone are deleted. Idempotent: a second run over an unchanged folder does
// nothing and says so. Exit status 1 when a file could not be ingested or deleted.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/app/cli_audit.h"
#include "ingest/app/ingest_files.h"
#include "ingest/app/worker_process.h"
#include "ingest/common/hash.h"
#include "ingest/common/ids.h"
#include "ingest/pipeline/delete_document.h"
#include "ingest/pipeline/run_until_terminal.h"
#include "ingest/pipeline/submit.h"
#include "ingest/pipeline/worker_pool.h"
#include "ingest/store/metadata.h"

namespace ingest::app {
namespace {

struct SyncArgs {
  std::string dir;
  bool remove = false;
  bool dry_run = false;
  bool json = false;
  std::string tenant;
  int workers = -1;
  std::vector<std::string> meta;
  std::vector<std::string> include, exclude;
};

struct Plan {
  std::vector<std::string> added, updated, unchanged, deleted;  // paths (external_ids)
  std::vector<std::string> delete_ids;                          // document ids to delete
  nlohmann::json failures = nlohmann::json::array();
};

nlohmann::json Failure(const std::string& path, const Status& s) {
  return {{"path", path}, {"code", s.reason()}, {"message", s.message()}};
}

int Run(const GlobalOptions& global, const SyncArgs& args) {
  auto config = LoadConfigFor(global);
  if (!config.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", config.status().message().c_str());
    return 2;
  }
  std::error_code ec;
  const std::filesystem::path root =
      std::filesystem::weakly_canonical(std::filesystem::absolute(args.dir, ec), ec);
  if (ec || !std::filesystem::is_directory(root)) {
    std::fprintf(stderr, "ingestd: sync needs a folder; %s is not one\n", args.dir.c_str());
    return 2;
  }
  std::string metadata;
  for (const std::string& kv : args.meta) {
    auto m = store::ParseMetadataEquals(kv);
    auto set =
        m.ok() ? store::SetMetadataValue(metadata.empty() ? "{}" : metadata, m->key, m->value_json)
               : Result<std::string>(m.status());
    if (!set.ok()) {
      std::fprintf(stderr, "ingestd: --meta: %s\n", set.status().message().c_str());
      return 2;
    }
    metadata = *set;
  }
  auto app_or = App::Open(*config);
  if (!app_or.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", app_or.status().ToString().c_str());
    return 2;
  }
  App& app = **app_or;
  const std::string tenant = args.tenant.empty() ? config->pipeline.tenant : args.tenant;
  FindOptions find;
  find.include = args.include;
  find.exclude = args.exclude;
  const FoundFiles found = FindFiles({root.string()}, find);
  Plan plan;
  for (const std::string& e : found.errors) plan.failures.push_back({{"path", e}});

  // What the store holds under this folder: the newest live version per external_id.
  const std::string prefix = root.string() + "/";
  store::DocumentFilter held_filter;
  held_filter.tenant = tenant;
  held_filter.external_id_prefix = prefix;
  held_filter.limit = 0;
  auto held_rows = app.store().ListDocuments(held_filter);
  if (!held_rows.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", held_rows.status().ToString().c_str());
    return 1;
  }
  std::map<std::string, std::vector<store::Document>> held;
  for (auto& r : *held_rows) held[r.document.external_id].push_back(std::move(r.document));

  std::vector<std::string> to_submit;
  std::set<std::string> present;
  for (const std::string& path : found.files) {
    present.insert(path);
    auto it = held.find(path);
    if (it == held.end()) {
      plan.added.push_back(path);
      to_submit.push_back(path);
      continue;
    }
    auto sha = Sha256File(path);
    if (!sha.ok()) {
      plan.failures.push_back(Failure(path, sha.status()));
      continue;
    }
    const store::Document* newest = &it->second.front();
    for (const auto& d : it->second) {
      if (d.version > newest->version) newest = &d;
    }
    // Stored metadata compared in normal form (PostgreSQL's jsonb prints its own spacing).
    const auto stored = store::NormalizeMetadata(newest->metadata_json);
    const bool same_metadata = metadata.empty() || (stored.ok() && *stored == metadata);
    if (newest->sha256 == *sha && same_metadata) {
      plan.unchanged.push_back(path);
    } else {
      plan.updated.push_back(path);
      to_submit.push_back(path);
    }
  }
  for (const auto& [external_id, docs] : held) {
    if (present.contains(external_id)) continue;
    plan.deleted.push_back(external_id);
    for (const auto& d : docs) plan.delete_ids.push_back(d.id);
  }

  std::vector<std::string> job_ids;
  std::map<std::string, std::string> path_of_job;
  if (!args.dry_run) {
    pipeline::PipelineDeps deps = app.Deps();
    for (const std::string& path : to_submit) {
      pipeline::SubmitOptions options;
      options.external_id = path;
      options.metadata_json = metadata;
      options.correlation_id = UuidV4();
      auto outcome = pipeline::SubmitFile(deps, path, tenant, options);
      if (!outcome.ok()) {
        plan.failures.push_back(Failure(path, outcome.status()));
        continue;
      }
      if (!outcome->created && outcome->document.external_id != path) {
        // The same bytes are already a document under another key: stored once, reported
        // unchanged (and again on every run: nothing to do for it).
        std::erase(plan.added, path);
        plan.unchanged.push_back(path);
        continue;
      }
      if (!store::IsTerminal(outcome->job.state)) {
        job_ids.push_back(outcome->job.id);
        path_of_job[outcome->job.id] = path;
      }
    }
    if (args.remove) {
      for (const std::string& id : plan.delete_ids) {
        auto out = pipeline::DeleteDocument(deps, id);
        AuditCli(app.store(), "document.delete", id, {{"via", "sync --delete"}},
                 out.ok() ? Status::Ok() : out.status());
        if (!out.ok() && out.status().code() != StatusCode::kNotFound) {
          plan.failures.push_back(Failure(id, out.status()));
        }
      }
    }
    if (!job_ids.empty()) {
      pipeline::WorkerPool pool(deps, WorkerOptionsFor(*config, args.workers));
      if (Status st = pool.Start(); !st.ok()) {
        std::fprintf(stderr, "ingestd: cannot start workers: %s\n", st.ToString().c_str());
        return 2;
      }
      auto jobs = pipeline::RunUntilTerminal(pool, app.store(), job_ids);
      pool.RequestStop();
      pool.Join();
      if (!jobs.ok()) {
        std::fprintf(stderr, "ingestd: %s\n", jobs.status().ToString().c_str());
        return 1;
      }
      for (const store::Job& j : *jobs) {
        if (j.state != store::JobState::kComplete) {
          plan.failures.push_back({{"path", path_of_job[j.id]},
                                   {"code", j.last_error_code},
                                   {"message", j.last_error_message},
                                   {"state", std::string(store::JobStateName(j.state))}});
        }
      }
    }
  }
  const bool deleting = args.remove;
  nlohmann::json out = {
      {"added", plan.added.size()},
      {"updated", plan.updated.size()},
      {"deleted", deleting ? plan.deleted.size() : 0},
      {"unchanged", plan.unchanged.size()},
      {"failed", plan.failures.size()},
      {"dry_run", args.dry_run},
      {"folder", root.string()},
      {"files",
       {{"added", plan.added},
        {"updated", plan.updated},
        {"deleted", deleting ? plan.deleted : std::vector<std::string>{}},
        {"gone_not_deleted", deleting ? std::vector<std::string>{} : plan.deleted}}},
      {"failures", plan.failures}};
  if (args.json) {
    std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    const char* verb = args.dry_run ? "would be " : "";
    for (const auto& p : plan.added) std::printf("%sadded    %s\n", verb, p.c_str());
    for (const auto& p : plan.updated) std::printf("%supdated  %s\n", verb, p.c_str());
    for (const auto& p : plan.deleted) {
      std::printf(deleting ? "%sdeleted  %s\n" : "gone (kept; --delete deletes it)  %s%s\n",
                  deleting ? verb : "", p.c_str());
    }
    for (const auto& f : plan.failures) {
      std::printf("failed   %s: %s\n", f.value("path", "").c_str(),
                  f.value("message", f.value("code", "")).c_str());
    }
    std::printf("%s%zu added, %zu updated, %zu deleted, %zu unchanged, %zu failed\n",
                args.dry_run ? "dry run: " : "", plan.added.size(), plan.updated.size(),
                deleting ? plan.deleted.size() : 0, plan.unchanged.size(), plan.failures.size());
  }
  return plan.failures.empty() ? 0 : 1;
}

}  // namespace

void AddSyncCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<SyncArgs>();
  CLI::App* cmd = app.add_subcommand(
      "sync", "Make the store mirror a folder (external_id = each file's absolute path)");
  cmd->add_option("dir", args->dir, "Folder")->required();
  cmd->add_flag("--delete", args->remove, "Delete the documents of files no longer in the folder");
  cmd->add_flag("--dry-run", args->dry_run, "Say what would be done; change nothing");
  cmd->add_flag("--json", args->json,
                "Print {added, updated, deleted, unchanged, failed, files, failures}");
  cmd->add_option("--tenant", args->tenant, "Tenant (default: pipeline.tenant)");
  cmd->add_option("--workers", args->workers, "Worker threads (default: pipeline.workers)");
  cmd->add_option("--meta", args->meta,
                  "Metadata KEY=VALUE for every file (repeatable; changed metadata counts as an "
                  "update)")
      ->allow_extra_args(false);
  cmd->add_option("--include", args->include, "Only files matching this glob (repeatable)");
  cmd->add_option("--exclude", args->exclude, "Leave out files matching this glob (repeatable)");
  cmd->callback([&global, exit_code, args] { *exit_code = Run(global, *args); });
}

}  // namespace ingest::app
