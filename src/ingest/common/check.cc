#include "ingest/common/check.h"

#include <cstdio>
#include <cstdlib>

namespace ingest::internal {

void CheckFailed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "INGEST_CHECK failed: %s at %s:%d\n", expr, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace ingest::internal
