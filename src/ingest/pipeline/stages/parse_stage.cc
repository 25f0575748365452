#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>

#include "ingest/common/ids.h"
#include "ingest/parse/fallback_parser.h"
#include "ingest/pipeline/stages/stage_support.h"
#include "ingest/pipeline/stages/stages.h"

namespace ingest::pipeline {
namespace {

// Keys the pipeline adds to the parser's detail_json in the parse cache, so a cache hit still
// knows which concrete parser produced the pages and whether the source was a PDF (validate's
// no-text-layer rule).
constexpr const char* kParserKey = "ingestd_parser";
constexpr const char* kIsPdfKey = "ingestd_is_pdf";

std::string RecordDetail(const parse::ParsedDocument& parsed) {
  nlohmann::json j = nlohmann::json::parse(parsed.detail_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    nlohmann::json wrapped = nlohmann::json::object();
    wrapped["parser_detail"] = parsed.detail_json;
    j = std::move(wrapped);
  }
  j[kParserKey] = parsed.parser;
  j[kIsPdfKey] = parsed.type == parse::DocType::kPdf;
  return j.dump();
}

// Remote parsers (DESIGN §1: submit once, persist the id before waiting). The stage never
// blocks on remote work: the first attempt submits and returns Waiting, so the state machine
// writes the remote id into the job row before anyone waits; later leases (any worker, any
// process) find the id in the row and poll it. Every submit appends kSubmittedEvent carrying the
// time of the chain's first submit, which times the poll schedule and the deadline without any
// extra column: after a crash the schedule resumes where it was.
constexpr const char* kSubmittedEvent = "parse.remote_submitted";

struct RemoteStep {
  std::optional<parse::ParsedDocument> document;  // done
  StageResult waiting;                            // otherwise
};

// Submits `input` and returns Waiting for the new id. `first_submitted_at`: 0 for a fresh
// chain, else the first submit's time (a re-submit after the remote job expired or vanished).
Result<RemoteStep> SubmitRemote(const PipelineDeps& deps, const parse::RemoteParser& remote,
                                const parse::ParseInput& input, const JobContext& ctx,
                                UnixMillis first_submitted_at, std::string_view why) {
  INGEST_ASSIGN_OR_RETURN(std::string id, remote.Submit(input));
  const UnixMillis now = deps.clock->NowMillis();
  // A failed event append must not lose the id (the upload is paid for): the id is persisted by
  // the Waiting transition; only the schedule falls back to the job's creation time.
  (void)AppendJobEvent(
      deps, ctx, kSubmittedEvent,
      nlohmann::json{{"parser", remote.Name()},
                     {"remote_job_id", id},
                     {"first_submitted_at", first_submitted_at > 0 ? first_submitted_at : now},
                     {"reason", why}}
          .dump());
  RemoteStep step;
  step.waiting = StageResult::Waiting(
      std::move(id), now + parse::RemotePollDelay(std::chrono::milliseconds(0)).count());
  return step;
}

// When the job's current remote job was submitted (`at`) and when its chain began (`first`).
struct SubmitTimes {
  UnixMillis at = 0;
  UnixMillis first = 0;
};

Result<SubmitTimes> FindSubmitTimes(const PipelineDeps& deps, const JobContext& ctx) {
  INGEST_ASSIGN_OR_RETURN(auto events, deps.store->ListEvents(ctx.job.id, /*limit=*/0));
  for (const auto& e : events) {  // newest first
    if (e.kind != kSubmittedEvent) continue;
    nlohmann::json j = nlohmann::json::parse(e.detail_json, nullptr, false);
    if (!j.is_object() || j.value("remote_job_id", std::string()) != ctx.job.remote_job_id) {
      continue;
    }
    return SubmitTimes{e.at, j.value("first_submitted_at", e.at)};
  }
  // No record (the append failed): the job's creation is the earliest the submit can have
  // been, so the deadline still ends the wait.
  return SubmitTimes{ctx.job.created_at, ctx.job.created_at};
}

// One step of a remote parse: submit when the job has no remote id, else poll it.
Result<RemoteStep> StepRemote(const PipelineDeps& deps, const parse::RemoteParser& remote,
                              const parse::ParseInput& input, const JobContext& ctx) {
  if (ctx.job.remote_job_id.empty()) {
    INGEST_ASSIGN_OR_RETURN(auto here, remote.ParseWithoutRemote(input));
    if (here) return RemoteStep{std::move(here), {}};
    return SubmitRemote(deps, remote, input, ctx, 0, "first");
  }
  INGEST_ASSIGN_OR_RETURN(SubmitTimes times, FindSubmitTimes(deps, ctx));
  const UnixMillis now = deps.clock->NowMillis();
  const bool past_deadline = now - times.first >= remote.PollDeadline().count();
  const std::string& id = ctx.job.remote_job_id;
  Result<parse::RemoteParseStatus> polled = remote.Poll(input, id);
  if (polled.ok() && polled->done()) return RemoteStep{std::move(polled->document), {}};
  if (!polled.ok()) {
    const Status& st = polled.status();
    // The remote job is gone (404) or expired on the server: its work is lost, so a new
    // submit is the only way forward; the deadline from the first submit bounds how often.
    const bool gone = st.reason() == "remote_job_not_found" || st.reason() == "remote_job_expired";
    if (gone && !past_deadline) {
      return SubmitRemote(deps, remote, input, ctx, times.first, st.reason());
    }
    // Transient trouble asking (429, 5xx, timeouts) does not end the wait before the deadline
    // (the official clients keep polling too); anything else is the stage's error.
    const bool transient =
        !gone &&
        (st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kDeadlineExceeded) &&
        st.reason() != "remote_job_failed";
    if (!transient) return st;
  }
  if (past_deadline) {
    return DeadlineExceeded(
        "remote parse job " + id + " of document " + ctx.document.id + " did not finish within " +
            std::to_string(remote.PollDeadline().count() / 1000) + " s of the first submit",
        "remote_deadline");
  }
  RemoteStep step;
  step.waiting = StageResult::Waiting(
      id, now + parse::RemotePollDelay(std::chrono::milliseconds(now - times.at)).count());
  return step;
}

// One ledger row for a remote parse that completed in this run (never for a parse-cache hit,
// and not when auto routing kept the document local): credits as the job's metadata reports
// them (job_credits_usage; 0 when the server served its own cache), priced with
// governor::ParseCostMicros. Without a price table (tests with hand-built deps only; App always
// sets one) the cost is recorded as 0. Written before the parse cache so a billed job is never
// missing from the ledger.
Status AppendRemoteParseLedger(const PipelineDeps& deps, const JobContext& ctx,
                               const parse::ParsedDocument& parsed) {
  nlohmann::json d = nlohmann::json::parse(parsed.detail_json, nullptr, false);
  if (!d.is_object() || !d.contains("remote_job_id")) return Status::Ok();
  auto number = [&](const char* key) -> int64_t {
    const auto it = d.find(key);
    return it != d.end() && it->is_number() ? it->get<int64_t>() : 0;
  };
  store::LedgerEntry entry;
  entry.id = UuidV4();
  entry.service = parsed.parser;
  entry.operation = "parse";
  entry.tenant = ctx.document.tenant;
  entry.document_id = ctx.document.id;
  entry.job_id = ctx.job.id;
  entry.model = d.value("parse_mode", std::string());
  entry.pages = number("job_pages") > 0 ? number("job_pages") : number("pages");
  entry.credits = number("credits");
  entry.requests = 1;
  if (deps.prices != nullptr) {
    INGEST_ASSIGN_OR_RETURN(entry.cost_micros,
                            governor::ParseCostMicros(*deps.prices, entry.credits));
  }
  entry.state = store::LedgerState::kSettled;
  entry.provider_request_id = d.value("remote_job_id", std::string());
  entry.created_at = deps.clock->NowMillis();
  return deps.store->AppendLedger(entry);
}

}  // namespace

bool ParseRecordIsPdf(const store::ParseRecord& rec) {
  nlohmann::json j = nlohmann::json::parse(rec.detail_json, nullptr, false);
  return j.is_object() && j.value(kIsPdfKey, false);
}

Result<StageResult> ParseStage::Run(JobContext& ctx) const {
  const parse::Parser& parser = *deps_.parser;
  const std::string config_hash = parser.ConfigHash();
  INGEST_ASSIGN_OR_RETURN(auto cached,
                          deps_.store->GetParse(ctx.document.sha256, parser.Name(), config_hash));
  store::ParseRecord rec;
  // A fallback parse (hybrid mode) is never reused: a requeue or a re-upload asks the remote
  // service again (parse/fallback_parser.h).
  if (cached && parse::FallbackNote(cached->detail_json).empty()) {
    rec = std::move(*cached);
    ctx.stats.parse_cache_hit = true;
    INGEST_RETURN_IF_ERROR(AppendJobEvent(
        deps_, ctx, "parse.cache_hit",
        nlohmann::json{{"parser", parser.Name()}, {"pages", rec.pages.size()}}.dump()));
  } else {
    INGEST_ASSIGN_OR_RETURN(std::string path, deps_.blobs->LocalPath(ctx.document.blob_key));
    parse::ParseInput input;
    input.path = path;
    input.filename = ctx.document.filename;
    input.sha256 = ctx.document.sha256;
    input.job_id = ctx.job.id;
    parse::ParsedDocument parsed;
    if (const auto* remote = dynamic_cast<const parse::RemoteParser*>(&parser)) {
      Result<RemoteStep> step = StepRemote(deps_, *remote, input, ctx);
      if (!step.ok()) {
        INGEST_ASSIGN_OR_RETURN(auto local,
                                remote->Fallback(input, step.status(), ctx.job.attempts + 1));
        if (!local) return step.status();
        step = RemoteStep{std::move(local), {}};
      }
      if (!step->document) return std::move(step->waiting);
      parsed = std::move(*step->document);
      INGEST_RETURN_IF_ERROR(AppendRemoteParseLedger(deps_, ctx, parsed));
    } else {
      INGEST_ASSIGN_OR_RETURN(parsed, parser.Parse(input));
    }
    if (ctx.Cancelled()) return Cancelled("job abandoned during parse", "abandoned");
    rec.file_sha256 = ctx.document.sha256;
    rec.parser = std::string(parser.Name());
    rec.config_hash = config_hash;
    rec.detail_json = RecordDetail(parsed);
    rec.pages = std::move(parsed.pages);
    rec.created_at = deps_.clock->NowMillis();
    INGEST_RETURN_IF_ERROR(deps_.store->PutParse(rec));
  }
  nlohmann::json detail = nlohmann::json::parse(rec.detail_json, nullptr, false);
  std::string produced_by =
      detail.is_object() ? detail.value(kParserKey, std::string()) : std::string();
  if (produced_by.empty()) produced_by = rec.parser;
  int page_count = 0;
  for (const auto& p : rec.pages) page_count = std::max(page_count, p.page);
  INGEST_RETURN_IF_ERROR(deps_.store->UpdateDocumentParseInfo(
      ctx.document.id, page_count, produced_by, parse::FallbackNote(rec.detail_json)));
  ctx.document.page_count = page_count;
  ctx.document.parser = produced_by;
  ctx.stats.pages = page_count;
  return StageResult::Done();
}

}  // namespace ingest::pipeline
