// The Store implementations the conformance suite runs on. Each backend adds one factory in
// store_factories_support.cc; the suite itself only speaks the Store interface.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ingest/common/clock.h"
#include "ingest/store/store.h"

namespace ingest::testing {

// Opens a new Store handle (its own connections) on one particular database; may be called any
// number of times, also in forked child processes, to share that database.
using StoreOpener = std::function<std::unique_ptr<store::Store>(Clock* clock)>;

struct StoreFactory {
  std::string name;  // test-name suffix: letters, digits and '_' only
  // A store over a fresh, empty database (not migrated), stamping times with `clock`.
  std::function<std::unique_ptr<store::Store>(Clock* clock)> make;
  // A fresh, empty database, opened through the returned opener (for multi-process tests).
  std::function<StoreOpener()> fresh_database;
};

std::vector<StoreFactory> StoreFactories();

// INGESTD_TEST_PG_URL, or nullptr when unset or empty.
const char* TestPostgresUrl();
// CI=true: a backend that cannot be provided fails its tests instead of skipping them.
bool TestsInCi();
// A fresh, empty schema on INGESTD_TEST_PG_URL, dropped when the test run ends; "" when it
// cannot be created (logged).
std::string NewPostgresSchema();

}  // namespace ingest::testing
