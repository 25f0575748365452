// Numbered schema migrations (DESIGN §3), one list per SQL dialect.
//
// Each backend owns an ascending, gap-free list of steps starting at version 1. A step's SQL may
// hold several statements; the runner applies one step per transaction and records it in
// `schema_migrations(version, name, applied_at)`. Versions and names must be identical across
// dialects so `ingestd migrate status` means the same thing on SQLite and PostgreSQL; only the
// SQL text differs. Never edit a released step: add a new one.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "ingest/store/types.h"

namespace ingest::store::migrations {

struct MigrationStep {
  int version;
  std::string_view name;
  std::string_view up_sql;
  std::string_view down_sql;
};

// SQLite dialect (migrations/sqlite.cc).
std::span<const MigrationStep> SqliteMigrations();
// PostgreSQL dialect (migrations/postgres.cc).
std::span<const MigrationStep> PostgresMigrations();

// {version, name} of each step, for Store::KnownMigrations().
std::vector<Migration> Describe(std::span<const MigrationStep> steps);

// Ok when versions run 1, 2, 3... without gaps; a violation is a bug in the list.
bool IsDenseAscending(std::span<const MigrationStep> steps);

}  // namespace ingest::store::migrations
