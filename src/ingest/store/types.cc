#include "ingest/store/types.h"

#include <array>
#include <string>
#include <utility>

namespace ingest::store {
namespace {

// One table per enum keeps the names and the parsers from drifting apart. The names are what
// the database stores, so they must never change once written.
template <typename E, size_t N>
Result<E> ParseByName(const std::array<std::pair<E, std::string_view>, N>& table,
                      std::string_view name, std::string_view what) {
  for (const auto& [value, value_name] : table) {
    if (value_name == name) return value;
  }
  return InvalidArgument("unknown " + std::string(what) + " \"" + std::string(name) + "\"",
                         "unknown_" + std::string(what));
}

template <typename E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "unknown";
}

constexpr std::array<std::pair<JobState, std::string_view>, 8> kJobStates = {{
    {JobState::kQueued, "queued"},
    {JobState::kRunning, "running"},
    {JobState::kWaiting, "waiting"},
    {JobState::kDeferred, "deferred"},
    {JobState::kComplete, "complete"},
    {JobState::kFailed, "failed"},
    {JobState::kDead, "dead"},
    {JobState::kCancelled, "cancelled"},
}};

constexpr std::array<std::pair<Stage, std::string_view>, 8> kStages = {{
    {Stage::kReceive, "receive"},
    {Stage::kParse, "parse"},
    {Stage::kValidate, "validate"},
    {Stage::kChunk, "chunk"},
    {Stage::kEmbed, "embed"},
    {Stage::kIndex, "index"},
    {Stage::kAccount, "account"},
    {Stage::kFinalize, "finalize"},
}};

constexpr std::array<std::pair<Lane, std::string_view>, 2> kLanes = {{
    {Lane::kInteractive, "interactive"},
    {Lane::kBulk, "bulk"},
}};

constexpr std::array<std::pair<LedgerState, std::string_view>, 3> kLedgerStates = {{
    {LedgerState::kReserved, "reserved"},
    {LedgerState::kSettled, "settled"},
    {LedgerState::kReleased, "released"},
}};

}  // namespace

std::string_view JobStateName(JobState s) { return NameOf(kJobStates, s); }
Result<JobState> ParseJobState(std::string_view name) {
  return ParseByName(kJobStates, name, "job_state");
}

std::string_view StageName(Stage s) { return NameOf(kStages, s); }
Result<Stage> ParseStage(std::string_view name) { return ParseByName(kStages, name, "stage"); }

bool IsTerminal(JobState s) {
  switch (s) {
    case JobState::kComplete:
    case JobState::kFailed:
    case JobState::kDead:
    case JobState::kCancelled:
      return true;
    case JobState::kQueued:
    case JobState::kRunning:
    case JobState::kWaiting:
    case JobState::kDeferred:
      return false;
  }
  return false;
}

std::string_view LaneName(Lane l) { return NameOf(kLanes, l); }
Result<Lane> ParseLane(std::string_view name) { return ParseByName(kLanes, name, "lane"); }

std::string_view LedgerStateName(LedgerState s) { return NameOf(kLedgerStates, s); }
Result<LedgerState> ParseLedgerState(std::string_view name) {
  return ParseByName(kLedgerStates, name, "ledger_state");
}

}  // namespace ingest::store
