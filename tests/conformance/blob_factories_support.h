// The BlobStore implementations the BlobStore conformance suite runs on: the folder, PostgreSQL
// (INGESTD_TEST_PG_URL) and S3 (an s3rver from tests/s3, started by the suite on a free port).
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "ingest/store/blob_store.h"

namespace ingest::testing {

// Opens a new handle (its own connections) on one particular, initially empty, blob space;
// may be called any number of times, also in a forked child process. nullptr on failure.
using BlobStoreOpener = std::function<std::unique_ptr<store::BlobStore>()>;

struct BlobFactory {
  std::string name;  // test-name suffix: letters, digits and '_' only
  // A fresh, empty blob space. Without its service the opener skips the test (GTEST_SKIP), or
  // fails it under CI=true, and returns nullptr.
  std::function<BlobStoreOpener()> fresh;
};

std::vector<BlobFactory> BlobFactories();

// gtest prints a test's parameter in its listing (and ctest's test names): the backend's name.
inline void PrintTo(const BlobFactory& f, std::ostream* os) { *os << f.name; }

}  // namespace ingest::testing
