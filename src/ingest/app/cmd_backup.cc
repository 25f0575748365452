// `ingestd backup PATH` and `ingestd restore PATH` (docs/operations/runbooks/backup-restore.md).
//
// A backup is a folder:
//   manifest.json   what it holds: format, ingestd version, store kind, schema version, row
//                   counts, blob count and bytes, the database file's sha256
//   ingestd.db      the SQLite store, copied with SQLite's online backup API (one snapshot)
//   blobs/          exactly the blobs the snapshot's documents name, in the blob folder layout
//   config/         the configuration file in use, when there is one
// Order matters: the database is copied first, then its blobs. Blobs are written before the
// rows naming them and never change, so every blob the snapshot names exists by then, and
// workers may keep running the whole time. Each copied blob is re-hashed against its key.
//
// Restore writes the database and the blobs into the configured store, refusing to replace an
// existing database unless --force (which keeps it aside).
//
// On a PostgreSQL store the database part is PostgreSQL's own: backup runs `pg_dump
// --format=custom` (one consistent snapshot while workers run) into database.dump, then copies
// the whole blob folder (every blob the dump names was written before its row) when blobs are
// in a folder; blobs stored in the database (blobs.url on PostgreSQL, the default) are in the
// dump, and blobs in S3 stay in their bucket. Restore runs `pg_restore` into the configured
// database, which must be empty (never migrated), then puts any backed-up blob files into the
// configured blob store (whatever its kind). pg_dump/pg_restore must be on PATH (postgresql-client,
// same major version as the server or newer).
#include <spawn.h>
#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "ingest/app/app.h"
#include "ingest/app/build_info.h"
#include "ingest/app/cli.h"
#include "ingest/common/hash.h"
#include "ingest/config/config.h"
#include "ingest/store/sqlite/sqlite_backup.h"

namespace ingest::app {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "ingestd-backup/1";

struct BackupArgs {
  std::string path;
  bool json = false;
  bool force = false;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "ingestd: %s\n", s.ToString().c_str());
  return 1;
}

std::string BlobRelPath(const std::string& key) {
  return key.substr(0, 2) + "/" + key.substr(2, 2) + "/" + key;
}

bool IsPostgres(const config::Config& c) {
  return c.store.url.rfind("postgresql://", 0) == 0 || c.store.url.rfind("postgres://", 0) == 0;
}

// Copies `from` to `to` through a temporary name, then checks the copy hashes to `key`.
Status CopyBlob(const fs::path& from, const fs::path& to, const std::string& key) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (ec) return Unavailable("create " + to.parent_path().string() + ": " + ec.message());
  const fs::path tmp = to.string() + ".tmp";
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) return Unavailable("copy " + from.string() + ": " + ec.message(), "blob_copy");
  INGEST_ASSIGN_OR_RETURN(std::string sha, Sha256File(tmp.string()));
  if (sha != key) {
    fs::remove(tmp, ec);
    return DataLoss("blob " + key + " does not match its hash (" + sha + "): " + from.string(),
                    "blob_corrupt");
  }
  fs::rename(tmp, to, ec);
  if (ec) return Unavailable("rename " + tmp.string() + ": " + ec.message());
  return Status::Ok();
}

extern "C" char** environ;

// Runs argv[0] (looked up on PATH) with the caller's stdio and environment; Ok on exit 0.
Status RunTool(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (int rc = posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ); rc != 0) {
    return Unavailable(argv[0] + ": " + std::strerror(rc) + " (install postgresql-client)",
                       "tool_missing");
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Internal(std::string("waitpid: ") + std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  // The tool printed its own error; the URL (which may hold a password) is not repeated here.
  return Unavailable(argv[0] + " failed (exit " +
                         std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128) + ")",
                     "tool_failed");
}

// Copies every blob under `from` (the blob folder layout) to `to`, checking each one's hash.
Result<std::pair<int64_t, int64_t>> CopyBlobTree(const fs::path& from, const fs::path& to) {
  int64_t count = 0;
  int64_t bytes = 0;
  std::error_code ec;
  if (!fs::exists(from, ec)) return std::pair<int64_t, int64_t>{0, 0};
  for (auto it = fs::recursive_directory_iterator(from, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string key = it->path().filename().string();
    if (key.size() != 64 || it->path().parent_path().parent_path().parent_path() != from) {
      continue;  // tmp/ and anything that is not a blob
    }
    INGEST_RETURN_IF_ERROR(CopyBlob(it->path(), to / BlobRelPath(key), key));
    ++count;
    bytes += static_cast<int64_t>(it->file_size());
  }
  if (ec) return Unavailable("read " + from.string() + ": " + ec.message());
  return std::pair<int64_t, int64_t>{count, bytes};
}

nlohmann::json Counts(const store::SqliteSnapshotInfo& info) {
  return {{"schema_version", info.schema_version},
          {"documents", info.documents},
          {"chunks", info.chunks},
          {"vectors", info.vectors},
          {"ledger_rows", info.ledger_rows}};
}

void Report(const char* verb, const std::string& path, const nlohmann::json& m, bool json) {
  if (json) {
    std::puts(m.dump(2).c_str());
    return;
  }
  std::printf(
      "%s %s: schema %d, %lld documents, %lld chunks, %lld vectors, %lld ledger rows, "
      "%lld blobs (%lld bytes)\n",
      verb, path.c_str(), m["schema_version"].get<int>(),
      static_cast<long long>(m["documents"].get<int64_t>()),
      static_cast<long long>(m["chunks"].get<int64_t>()),
      static_cast<long long>(m["vectors"].get<int64_t>()),
      static_cast<long long>(m["ledger_rows"].get<int64_t>()),
      static_cast<long long>(m["blobs"].get<int64_t>()),
      static_cast<long long>(m["blob_bytes"].get<int64_t>()));
}

// The configuration in use goes into out/config (secrets come from the environment or *_FILE).
Result<nlohmann::json> CopyConfig(const config::Config& config, const fs::path& out) {
  if (config.file.empty()) return nlohmann::json(nullptr);
  std::error_code ec;
  fs::create_directories(out / "config", ec);
  const fs::path to = out / "config" / fs::path(config.file).filename();
  fs::copy_file(config.file, to, ec);
  if (ec) return Unavailable("copy " + config.file + ": " + ec.message());
  return nlohmann::json(to.filename().string());
}

Result<fs::path> NewBackupFolder(const std::string& path) {
  const fs::path out(path);
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_empty(out, ec)) {
    return AlreadyExists(path + " exists and is not empty; a backup never overwrites",
                         "backup_exists");
  }
  fs::create_directories(out, ec);
  if (ec) return Unavailable("create " + path + ": " + ec.message());
  fs::permissions(out, fs::perms::owner_all, ec);  // uploads and the ledger: owner only
  return out;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The blobs stored in the database (blob store on PostgreSQL): count and bytes. Counted after
// pg_dump, so with uploads going on it may name a few blobs the dump does not hold.
Result<std::pair<int64_t, int64_t>> CountDatabaseBlobs(const std::string& url) {
  try {
    pqxx::connection conn(url);
    pqxx::nontransaction tx(conn);
    pqxx::row r = tx.exec1("SELECT count(*), coalesce(sum(size), 0) FROM blobs");
    return std::pair<int64_t, int64_t>{r[0].as<int64_t>(), r[1].as<int64_t>()};
  } catch (const std::exception& e) {
    return Unavailable(std::string("count blobs in the database: ") + e.what(), "store_error");
  }
}

// PostgreSQL: pg_dump first, then the blob folder, then the configuration.
int RunPostgresBackup(const config::Config& config, const BackupArgs& args) {
  auto out = NewBackupFolder(args.path);
  if (!out.ok()) return Fail(out.status());
  const std::string dump = (*out / "database.dump").string();
  if (Status st = RunTool({"pg_dump", "--format=custom", "--no-owner", "--file=" + dump,
                           "--dbname=" + config.store.url});
      !st.ok()) {
    return Fail(st);
  }
  // Blobs in a folder are copied (also the folder an upgraded deployment still reads, see
  // OpenBlobStore); blobs in the database are in the dump already, and blobs in S3 stay where
  // they are (docs/operations/blobs.md: back the bucket up with the database).
  std::string blob_folder = config::BlobsFolder(config);
  const bool blobs_in_dump = config.blobs.url == config.store.url;
  if (blob_folder.empty() && blobs_in_dump) blob_folder = config.store.data_dir + "/blobs";
  Result<std::pair<int64_t, int64_t>> blobs = std::pair<int64_t, int64_t>{0, 0};
  if (!blob_folder.empty()) blobs = CopyBlobTree(fs::path(blob_folder), *out / "blobs");
  if (!blobs.ok()) return Fail(blobs.status());
  if (blobs_in_dump) {
    auto in_db = CountDatabaseBlobs(config.store.url);
    if (!in_db.ok()) return Fail(in_db.status());
    blobs->first += in_db->first;
    blobs->second += in_db->second;
  }
  auto config_file = CopyConfig(config, *out);
  if (!config_file.ok()) return Fail(config_file.status());
  auto sha = Sha256File(dump);
  if (!sha.ok()) return Fail(sha.status());
  nlohmann::json manifest = {
      {"format", kFormat},     {"created_at", NowSeconds()},  {"ingestd", VersionLine()},
      {"store", "postgresql"}, {"database", "database.dump"}, {"database_sha256", *sha},
      {"blobs", blobs->first}, {"blob_bytes", blobs->second}, {"config_file", *config_file}};
  std::ofstream(*out / "manifest.json") << manifest.dump(2) << "\n";
  if (args.json) {
    std::puts(manifest.dump(2).c_str());
  } else {
    std::printf("backup %s: PostgreSQL dump (%lld bytes), %lld blobs (%lld bytes)\n",
                args.path.c_str(), static_cast<long long>(fs::file_size(dump)),
                static_cast<long long>(blobs->first), static_cast<long long>(blobs->second));
  }
  return 0;
}

// PostgreSQL: into an empty database only; pg_restore, then the blobs.
int RunPostgresRestore(const config::Config& config, const BackupArgs& args,
                       const nlohmann::json& manifest) {
  const fs::path in(args.path);
  const std::string dump = (in / "database.dump").string();
  auto sha = Sha256File(dump);
  if (!sha.ok()) return Fail(sha.status());
  if (*sha != manifest.value("database_sha256", "")) {
    return Fail(DataLoss(dump + " does not match the manifest's sha256", "backup_corrupt"));
  }
  {
    auto store = OpenStore(config, Clock::Real(), /*auto_migrate=*/false);
    if (!store.ok()) return Fail(store.status());
    auto version = (*store)->SchemaVersion();
    if (!version.ok()) return Fail(version.status());
    if (*version != 0) {
      return Fail(AlreadyExists(
          "the configured PostgreSQL database already holds an ingestd schema (version " +
              std::to_string(*version) +
              "); restore into a new, empty database (createdb) and point INGESTD_STORE at it",
          "store_exists"));
    }
  }
  if (Status st = RunTool(
          {"pg_restore", "--no-owner", "--exit-on-error", "--dbname=" + config.store.url, dump});
      !st.ok()) {
    return Fail(st);
  }
  auto blobs_or = OpenBlobStore(config);
  if (!blobs_or.ok()) return Fail(blobs_or.status());
  store::BlobStore& blobs = **blobs_or;
  int64_t count = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(in / "blobs", ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    auto put = blobs.PutFile(it->path().string());
    if (!put.ok()) return Fail(put.status());
    if (*put != it->path().filename().string()) {
      return Fail(
          DataLoss("backup blob " + it->path().string() + " hashes to " + *put, "backup_corrupt"));
    }
    ++count;
  }
  auto store = OpenStore(config, Clock::Real(), /*auto_migrate=*/false);
  if (!store.ok()) return Fail(store.status());
  auto version = (*store)->SchemaVersion();
  if (!version.ok()) return Fail(version.status());
  std::printf("restored %s: PostgreSQL schema %d, %lld blobs\n", args.path.c_str(), *version,
              static_cast<long long>(count));
  return 0;
}

int RunBackup(const GlobalOptions& global, const BackupArgs& args) {
  auto config = LoadConfigFor(global);
  if (!config.ok()) return Fail(config.status());
  if (IsPostgres(*config)) return RunPostgresBackup(*config, args);
  if (Status exists = RequireExistingStore(*config); !exists.ok()) return Fail(exists);
  auto out_or = NewBackupFolder(args.path);
  if (!out_or.ok()) return Fail(out_or.status());
  const fs::path out = *out_or;
  std::error_code ec;

  // 1. The database: one consistent snapshot, while writers go on.
  const std::string db = (out / "ingestd.db").string();
  if (Status st = store::BackupSqliteDatabase(config::SqlitePath(*config), db); !st.ok()) {
    return Fail(st);
  }
  auto info = store::InspectSqliteDatabase(db);
  if (!info.ok()) return Fail(info.status());

  // 2. Its blobs, after it: each exists already (written before its row) and never changes.
  auto blobs = OpenBlobStore(*config);
  if (!blobs.ok()) return Fail(blobs.status());
  int64_t blob_bytes = 0;
  for (const std::string& key : info->blob_keys) {
    auto local = (*blobs)->LocalPath(key);
    const fs::path from = local.ok() ? fs::path(*local) : fs::path();
    if (!local.ok() || !fs::exists(from, ec)) {
      return Fail(
          DataLoss("the store names blob " + key + " but " +
                       (local.ok() ? from.string() + " is missing" : local.status().message()) +
                       "; the live store has lost an original file",
                   "blob_missing"));
    }
    if (Status st = CopyBlob(from, out / "blobs" / BlobRelPath(key), key); !st.ok()) {
      return Fail(st);
    }
    blob_bytes += static_cast<int64_t>(fs::file_size(from, ec));
  }

  // 3. The configuration in use (secrets come from the environment or *_FILE, not from it).
  nlohmann::json manifest = Counts(*info);
  auto config_file = CopyConfig(*config, out);
  if (!config_file.ok()) return Fail(config_file.status());
  manifest["config_file"] = *config_file;
  auto db_sha = Sha256File(db);
  if (!db_sha.ok()) return Fail(db_sha.status());
  manifest["format"] = kFormat;
  manifest["created_at"] = NowSeconds();
  manifest["ingestd"] = VersionLine();
  manifest["store"] = "sqlite";
  manifest["database"] = "ingestd.db";
  manifest["database_sha256"] = *db_sha;
  manifest["blobs"] = static_cast<int64_t>(info->blob_keys.size());
  manifest["blob_bytes"] = blob_bytes;
  // Written last: a folder without a manifest is an unfinished backup.
  std::ofstream(out / "manifest.json") << manifest.dump(2) << "\n";
  Report("backup", args.path, manifest, args.json);
  return 0;
}

// Moves `path` (and SQLite's -wal/-shm beside it) aside with `suffix`; returns the new name.
Status MoveAside(const std::string& path, const std::string& suffix) {
  std::error_code ec;
  for (const char* ext : {"", "-wal", "-shm"}) {
    const std::string from = path + ext;
    if (!fs::exists(from, ec)) continue;
    fs::rename(from, path + suffix + ext, ec);
    if (ec) return Unavailable("move " + from + " aside: " + ec.message());
  }
  return Status::Ok();
}

int RunRestore(const GlobalOptions& global, const BackupArgs& args) {
  auto config = LoadConfigFor(global);
  if (!config.ok()) return Fail(config.status());
  const fs::path in(args.path);
  nlohmann::json manifest;
  try {
    std::ifstream f(in / "manifest.json");
    if (!f) {
      return Fail(NotFound(args.path + "/manifest.json missing: not a backup, or unfinished",
                           "backup_missing"));
    }
    manifest = nlohmann::json::parse(f);
    if (manifest.value("format", "") != kFormat) {
      return Fail(InvalidArgument("unknown backup format " + manifest.value("format", "?"),
                                  "backup_format"));
    }
  } catch (const std::exception& e) {
    return Fail(DataLoss(args.path + "/manifest.json: " + e.what(), "backup_corrupt"));
  }
  const bool pg_backup = manifest.value("store", "") == "postgresql";
  if (pg_backup != IsPostgres(*config)) {
    return Fail(FailedPrecondition(
        std::string("the backup is of a ") + (pg_backup ? "PostgreSQL" : "SQLite") +
            " store and the configured store is " +
            (IsPostgres(*config) ? "PostgreSQL" : "SQLite") + "; restore into the same kind",
        "backup_store_kind"));
  }
  if (pg_backup) return RunPostgresRestore(*config, args, manifest);

  // Check the backup whole before touching the store.
  const std::string src_db = (in / "ingestd.db").string();
  auto sha = Sha256File(src_db);
  if (!sha.ok()) return Fail(sha.status());
  if (*sha != manifest.value("database_sha256", "")) {
    return Fail(DataLoss(src_db + " does not match the manifest's sha256", "backup_corrupt"));
  }
  auto info = store::InspectSqliteDatabase(src_db);
  if (!info.ok()) return Fail(info.status());
  if (info->schema_version > LatestSchemaVersion()) {
    return Fail(FailedPrecondition("the backup's schema version " +
                                       std::to_string(info->schema_version) +
                                       " is newer than this build knows; restore with the "
                                       "release that took it (" +
                                       manifest.value("ingestd", "?") + ")",
                                   "schema_too_new"));
  }
  std::error_code ec;
  for (const std::string& key : info->blob_keys) {
    if (!fs::exists(in / "blobs" / BlobRelPath(key), ec)) {
      return Fail(DataLoss("the backup lacks blob " + key, "backup_incomplete"));
    }
  }

  const std::string db = config::SqlitePath(*config);
  if (fs::exists(db, ec)) {
    if (!args.force) {
      return Fail(AlreadyExists(
          "a store exists at " + db +
              "; stop every process using it, then move it aside or pass --force (which keeps "
              "it as " +
              db + ".before-restore-TIME)",
          "store_exists"));
    }
    const std::string suffix = ".before-restore-" + std::to_string(NowSeconds());
    if (Status st = MoveAside(db, suffix); !st.ok()) return Fail(st);
    std::fprintf(stderr, "ingestd: the previous store is kept as %s%s\n", db.c_str(),
                 suffix.c_str());
  }
  fs::create_directories(fs::path(db).parent_path(), ec);
  // Blobs first (content-addressed, harmless without rows), then the database by rename.
  auto blobs = OpenBlobStore(*config);
  if (!blobs.ok()) return Fail(blobs.status());
  int64_t blob_bytes = 0;
  for (const std::string& key : info->blob_keys) {
    const fs::path from = in / "blobs" / BlobRelPath(key);
    auto put = (*blobs)->PutFile(from.string());
    if (!put.ok()) return Fail(put.status());
    if (*put != key) {
      return Fail(DataLoss("backup blob " + key + " hashes to " + *put, "backup_corrupt"));
    }
    blob_bytes += static_cast<int64_t>(fs::file_size(from, ec));
  }
  const std::string tmp = db + ".restoring";
  fs::remove(tmp, ec);
  if (Status st = store::BackupSqliteDatabase(src_db, tmp); !st.ok()) return Fail(st);
  fs::rename(tmp, db, ec);
  if (ec) return Fail(Unavailable("rename " + tmp + ": " + ec.message()));

  nlohmann::json out = Counts(*info);
  out["blobs"] = static_cast<int64_t>(info->blob_keys.size());
  out["blob_bytes"] = blob_bytes;
  out["store"] = db;
  Report("restored", args.path, out, args.json);
  if (!args.json && info->schema_version < LatestSchemaVersion()) {
    std::printf("the schema (version %d) is migrated to %d by the next command that opens it\n",
                info->schema_version, LatestSchemaVersion());
  }
  return 0;
}

}  // namespace

void AddBackupCommands(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto backup_args = std::make_shared<BackupArgs>();
  CLI::App* backup = app.add_subcommand(
      "backup", "Copy the embedded store, its blobs and the configuration into a new folder");
  backup->add_option("path", backup_args->path, "Folder to create (must not exist, or be empty)")
      ->required();
  backup->add_flag("--json", backup_args->json, "JSON output (the manifest)");
  backup->callback(
      [&global, exit_code, backup_args] { *exit_code = RunBackup(global, *backup_args); });

  auto restore_args = std::make_shared<BackupArgs>();
  CLI::App* restore =
      app.add_subcommand("restore", "Restore a backup folder into the configured embedded store");
  restore->add_option("path", restore_args->path, "Backup folder (from ingestd backup)")
      ->required();
  restore->add_flag("--force", restore_args->force,
                    "Replace an existing store (it is kept aside, never deleted)");
  restore->add_flag("--json", restore_args->json, "JSON output");
  restore->callback(
      [&global, exit_code, restore_args] { *exit_code = RunRestore(global, *restore_args); });
}

}  // namespace ingest::app
