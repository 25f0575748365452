#include "ingest/common/failpoint.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace ingest::failpoint_internal {
namespace {

const char* ArmedFromEnvironment() {
  const char* v = std::getenv("INGESTD_FAILPOINT");
  return v != nullptr && *v != '\0' ? v : nullptr;
}

}  // namespace

const char* const armed = ArmedFromEnvironment();

bool Matches(std::string_view name) { return name == armed; }

void Kill(std::string_view name) {
  // One write(2) so the test can tell this death from any other; nothing else runs after it.
  const std::string line = "ingestd: failpoint " + std::string(name) + " hit: SIGKILL\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  ::raise(SIGKILL);
  ::_exit(137);  // not reached
}

}  // namespace ingest::failpoint_internal
