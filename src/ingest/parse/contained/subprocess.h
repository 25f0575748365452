// Runs one untrusted-input job in a child process and collects what it wrote, with a wall-clock
// deadline and a cap on its output. The building block of ContainedParser.
//
// Why posix_spawn and not fork: the caller is a multithreaded worker (other threads hold
// mutexes, the allocator's locks, database connections); a forked copy that kept running our
// code could deadlock on a lock held by a thread that does not exist in the copy. posix_spawn
// execs at once (glibc uses clone(CLONE_VM|CLONE_VFORK)), so nothing of the parent runs in the
// child. Every descriptor but stdin/stdout/stderr is closed in the child.
//
// The child runs in its own process group (a Ctrl-C meant for `ingestd ingest` is not the
// document's fault and must not look like a crash); RunSubprocess kills the group with SIGKILL
// at the deadline (SIGKILL, because a hostile input may leave the child ignoring SIGTERM) and
// always reaps the child before returning, so no zombie outlives the call.
//
// Thread-safe: any number of threads may run subprocesses at once.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "ingest/common/result.h"

namespace ingest::parse {

struct SubprocessLimits {
  std::chrono::milliseconds wall{120000};  // SIGKILL after this, whatever the child is doing
  int64_t max_stdout_bytes = 256ll << 20;  // reading stops and the child is killed past this
  size_t keep_stderr_bytes = 4096;         // the first bytes of stderr (crash reports) are kept
};

struct SubprocessRun {
  std::string out;  // everything written to stdout, up to max_stdout_bytes
  std::string err;  // the first keep_stderr_bytes of stderr
  bool killed_at_deadline = false;
  bool stdout_overflow = false;  // killed because it wrote more than max_stdout_bytes
  int wait_status = 0;           // as from waitpid: WIFEXITED/WIFSIGNALED apply
  struct rusage usage {};        // the child's CPU time and peak RSS
  std::chrono::milliseconds elapsed{0};
};

// Spawns argv[0] (an absolute path) with argv, stdin from /dev/null, and waits for it under
// `limits`. Errors only when the child could not be started: kUnavailable
// [parse_spawn_failed] (out of processes or memory: worth retrying later).
Result<SubprocessRun> RunSubprocess(const std::vector<std::string>& argv,
                                    const SubprocessLimits& limits);

}  // namespace ingest::parse
