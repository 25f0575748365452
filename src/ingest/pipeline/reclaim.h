// Leases left by dead processes on this machine (DESIGN §1). A lease whose owner stopped
// heartbeating is taken over once it expires (pipeline.lease_ttl_s); when the owner ran on this
// host and its pid no longer exists, it will never come back, so its jobs are queued again at
// once (state machine event OwnerDead) instead of after the expiry. Leases of live processes,
// or of processes on other hosts, are left alone and reported (how many, and until when).
//
// Lease owners are "HOST:PID:ID/THREAD" (pipeline/worker_pool.cc); other owners are treated as
// remote. Thread-safe if the store is.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/clock.h"
#include "ingest/common/result.h"
#include "ingest/store/store.h"

namespace ingest::pipeline {

struct ReclaimReport {
  int64_t reclaimed = 0;           // jobs queued again at once
  std::vector<int64_t> dead_pids;  // the dead owners' pids, once each
  int64_t held = 0;                // jobs still leased by live or remote processes
  UnixMillis held_until = 0;       // the latest expiry among those leases
};

// The host and pid of a lease owner "HOST:PID:ID/THREAD"; false when it has another shape.
bool ParseLeaseOwner(std::string_view owner, std::string* host, int64_t* pid);

// Queues again every running job whose lease belongs to a dead process on `host` (`alive(pid)`
// says whether a local process exists; `self_pid` is never reclaimed), through the state
// machine with compare-and-set (a job that changed meanwhile is skipped) and an event
// "job.reclaimed" each.
Result<ReclaimReport> ReclaimDeadLocalLeases(store::Store& store, Clock& clock,
                                             std::string_view host, int64_t self_pid,
                                             const std::function<bool(int64_t pid)>& alive);

// ReclaimDeadLocalLeases for this process: gethostname(), getpid(), kill(pid, 0).
Result<ReclaimReport> ReclaimDeadLocalLeases(store::Store& store, Clock& clock);

}  // namespace ingest::pipeline
