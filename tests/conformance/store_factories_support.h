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

struct StoreFactory {
  std::string name;  // test-name suffix: letters, digits and '_' only
  // A store over a fresh, empty database (not migrated), stamping times with `clock`.
  std::function<std::unique_ptr<store::Store>(Clock* clock)> make;
};

std::vector<StoreFactory> StoreFactories();

}  // namespace ingest::testing
