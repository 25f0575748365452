#include "ingest/pipeline/reclaim.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "ingest/pipeline/state_machine.h"

namespace ingest::pipeline {

bool ParseLeaseOwner(std::string_view owner, std::string* host, int64_t* pid) {
  owner = owner.substr(0, owner.find('/'));
  const size_t id_colon = owner.rfind(':');
  if (id_colon == std::string_view::npos || id_colon == 0) return false;
  const size_t pid_colon = owner.rfind(':', id_colon - 1);
  if (pid_colon == std::string_view::npos) return false;
  const std::string_view digits = owner.substr(pid_colon + 1, id_colon - pid_colon - 1);
  if (digits.empty() || digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  *host = std::string(owner.substr(0, pid_colon));
  *pid = std::stoll(std::string(digits));
  return true;
}

Result<ReclaimReport> ReclaimDeadLocalLeases(store::Store& store, Clock& clock,
                                             std::string_view host, int64_t self_pid,
                                             const std::function<bool(int64_t pid)>& alive) {
  store::JobFilter filter;
  filter.state = store::JobState::kRunning;
  filter.limit = 0;
  INGEST_ASSIGN_OR_RETURN(std::vector<store::JobView> running, store.ListJobs(filter));
  ReclaimReport report;
  const UnixMillis now = clock.NowMillis();
  for (const store::JobView& v : running) {
    const store::Job& job = v.job;
    if (job.lease_expires_at < now) continue;  // expired: any worker takes it over anyway
    std::string owner_host;
    int64_t pid = 0;
    const bool local = ParseLeaseOwner(job.lease_owner, &owner_host, &pid) && owner_host == host &&
                       pid != self_pid;
    if (!local || alive(pid)) {
      ++report.held;
      report.held_until = std::max(report.held_until, job.lease_expires_at);
      continue;
    }
    auto decided = DecideTransition(job, OwnerDead{}, now, 0, governor::RetryPolicy{});
    if (!decided.ok() || !decided->has_value()) continue;
    auto written = store.UpdateJob(job.id, job.version, **decided, now);
    if (!written.ok()) continue;  // changed meanwhile: whoever changed it owns it
    ++report.reclaimed;
    if (std::find(report.dead_pids.begin(), report.dead_pids.end(), pid) ==
        report.dead_pids.end()) {
      report.dead_pids.push_back(pid);
    }
    store::Event e;
    e.at = now;
    e.kind = "job.reclaimed";
    e.job_id = job.id;
    e.document_id = job.document_id;
    e.correlation_id = job.correlation_id;
    e.detail_json = nlohmann::json{{"lease_owner", job.lease_owner},
                                   {"stage", store::StageName(job.stage)},
                                   {"reason", "owner process is gone"}}
                        .dump();
    (void)store.AppendEvent(e);
  }
  return report;
}

Result<ReclaimReport> ReclaimDeadLocalLeases(store::Store& store, Clock& clock) {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return ReclaimDeadLocalLeases(
      store, clock, host[0] ? host : "localhost", getpid(),
      [](int64_t pid) { return kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH; });
}

}  // namespace ingest::pipeline
