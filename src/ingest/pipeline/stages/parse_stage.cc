#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "ingest/common/failpoint.h"
#include "ingest/common/ids.h"
#include "ingest/parse/detect.h"
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

// One bounded upload of a document (issue 12): the service may bill at most `max_pages` pages
// from 0-based page `first_page`, which is exactly what was reserved. A document whose page
// count is unknown before parsing is parsed in consecutive segments until one comes back
// short; the pages of finished segments wait in the parse cache under PartialKey.
struct Segment {
  int64_t first_page = 0;
  int64_t max_pages = 0;    // reserved pages = the upload's max_pages
  int64_t bound = 0;        // the per-upload bound of this document (EstimateSubmit().pages)
  int64_t total_pages = 0;  // known page count (PDF), 0 = unknown
  int64_t max_total = 0;    // configured cap on the document's pages, 0 = none
  bool fixed = false;       // the configuration selects pages: one upload, never split
};

struct RemoteStep {
  std::optional<parse::ParsedDocument> document;  // a segment finished (or, partial, the end)
  StageResult waiting;                            // otherwise
  // The finished remote job ended the document without pages of its own (a continuation
  // past the last page): `document` is empty and the partial pages are the whole document.
  bool ended_without_pages = false;
};

// Submits `input` and returns Waiting for the new id. `first_submitted_at`: 0 for a fresh
// chain, else the first submit's time (a re-submit after the remote job expired or vanished).
// Governed, the segment's pages are reserved first; when a budget refuses them, smaller
// segments are tried (halving, down to one page) so the room left under a cap is used, and only
// when not even one page fits is the budget's refusal returned (the job is deferred with it).
Result<RemoteStep> SubmitRemote(const PipelineDeps& deps, const parse::RemoteParser& remote,
                                const parse::ParseInput& input, const JobContext& ctx,
                                UnixMillis first_submitted_at, std::string_view why, Segment seg) {
  std::optional<governor::Reservation> reservation;
  if (deps.governor != nullptr) {
    INGEST_ASSIGN_OR_RETURN(parse::RemoteParser::SubmitEstimate est, remote.EstimateSubmit(input));
    governor::CallSpec spec;
    spec.service = est.service;
    spec.operation = "parse";
    spec.model = est.mode;
    spec.tenant = ctx.document.tenant;
    spec.document_id = ctx.document.id;
    spec.job_id = ctx.job.id;
    while (true) {
      spec.pages = seg.max_pages;
      INGEST_ASSIGN_OR_RETURN(spec.credits, governor::CreditsForPages(deps.governor->prices(),
                                                                      est.mode, seg.max_pages));
      Result<governor::Reservation> r = deps.governor->Reserve(spec);
      if (r.ok()) {
        reservation = std::move(r).value();
        break;
      }
      if (r.status().reason() != governor::kBudgetExceeded || seg.fixed || seg.max_pages <= 1) {
        return r.status();
      }
      seg.max_pages /= 2;
    }
  }
  parse::ParseInput bounded = input;
  bounded.first_page = seg.first_page;
  bounded.max_pages = seg.max_pages;
  Result<std::string> submitted = [&]() -> Result<std::string> {
    if (!reservation) return remote.Submit(bounded);
    // The provider's gate marks the reservation sent right before the upload leaves.
    governor::CallScope scope(deps.governor, *reservation);
    Result<std::string> out = remote.Submit(bounded);
    // An adapter without a gate could not mark it: late, but before the id is relied on.
    if (out.ok() && !scope.sent()) (void)deps.governor->MarkSent(*reservation);
    return out;
  }();
  if (!submitted.ok()) {
    // A timeout or reset may have left a job on the service that will bill: keep the
    // reservation (the account stage settles it at its estimate). Anything else was refused
    // before work started.
    const Status& st = submitted.status();
    const bool maybe_started =
        st.code() == StatusCode::kDeadlineExceeded || st.reason() == "connection_reset";
    if (reservation && !maybe_started) (void)deps.governor->Release(*reservation, st.reason());
    return st;
  }
  std::string id = std::move(submitted).value();
  const UnixMillis now = deps.clock->NowMillis();
  // A failed event append must not lose the id (the upload is paid for): the id is persisted by
  // the Waiting transition; only the schedule falls back to the job's creation time, and the
  // settlement finds the reservation among the job's reserved rows.
  nlohmann::json detail{{"parser", remote.Name()},
                        {"remote_job_id", id},
                        {"first_submitted_at", first_submitted_at > 0 ? first_submitted_at : now},
                        {"reason", why},
                        {"first_page", seg.first_page},
                        {"max_pages", seg.max_pages},
                        {"bound", seg.bound},
                        {"total_pages", seg.total_pages},
                        {"max_total_pages", seg.max_total},
                        {"fixed_selection", seg.fixed}};
  if (reservation) {
    detail["reservation_id"] = reservation->ledger_id;
    detail["estimate_nanos"] = reservation->estimate_nanos;
  }
  (void)AppendJobEvent(deps, ctx, kSubmittedEvent, detail.dump());
  RemoteStep step;
  step.waiting = StageResult::Waiting(
      std::move(id), now + parse::RemotePollDelay(std::chrono::milliseconds(0)).count());
  return step;
}

// When the job's current remote job was submitted (`at`) and when its chain began (`first`).
struct SubmitTimes {
  UnixMillis at = 0;
  UnixMillis first = 0;
  std::string reservation_id;      // "" when ungoverned or the event was lost
  int submits = 0;                 // submit events of this job (every remote id)
  std::optional<Segment> segment;  // the current remote job's bounds (absent: event lost)
};

// A remote job that ended in ERROR is submitted again (failed jobs are not billed) at most this
// many times in all; then the failure is the stage's error (retried, dead, or a hybrid
// fallback), so a document the service always fails on cannot loop.
constexpr int kMaxRemoteSubmits = 3;

Result<SubmitTimes> FindSubmitTimes(const PipelineDeps& deps, const JobContext& ctx) {
  INGEST_ASSIGN_OR_RETURN(auto events, deps.store->ListEvents(ctx.job.id, /*limit=*/0));
  std::optional<SubmitTimes> found;
  int submits = 0;
  for (const auto& e : events) {  // newest first
    if (e.kind != kSubmittedEvent) continue;
    ++submits;
    nlohmann::json j = nlohmann::json::parse(e.detail_json, nullptr, false);
    if (found || !j.is_object() ||
        j.value("remote_job_id", std::string()) != ctx.job.remote_job_id) {
      continue;
    }
    found = SubmitTimes{e.at, j.value("first_submitted_at", e.at),
                        j.value("reservation_id", std::string()), 0, std::nullopt};
    if (j.contains("max_pages")) {
      Segment seg;
      seg.first_page = j.value("first_page", int64_t{0});
      seg.max_pages = j.value("max_pages", int64_t{0});
      seg.bound = j.value("bound", seg.max_pages);
      seg.total_pages = j.value("total_pages", int64_t{0});
      seg.max_total = j.value("max_total_pages", int64_t{0});
      seg.fixed = j.value("fixed_selection", false);
      found->segment = seg;
    }
  }
  // No record (the append failed): the job's creation is the earliest the submit can have
  // been, so the deadline still ends the wait.
  SubmitTimes times =
      found ? *found : SubmitTimes{ctx.job.created_at, ctx.job.created_at, "", 0, std::nullopt};
  times.submits = submits;
  return times;
}

// Releases the reservation of a remote job that ended without a bill (the job failed).
void ReleaseRemoteParse(const PipelineDeps& deps, const JobContext& ctx, const SubmitTimes& times,
                        const Status& why) {
  if (deps.governor == nullptr || times.reservation_id.empty()) return;
  governor::Reservation r;
  r.ledger_id = times.reservation_id;
  r.spec.job_id = ctx.job.id;
  (void)deps.governor->Release(r, "remote job ended without a result: " + why.reason());
}

// Parse-cache key of the pages of a segmented remote parse finished so far.
std::string PartialKey(const parse::Parser& parser) { return parser.ConfigHash() + ";partial"; }

Result<std::vector<store::PageText>> PartialPages(const PipelineDeps& deps,
                                                  const parse::Parser& parser,
                                                  const JobContext& ctx) {
  INGEST_ASSIGN_OR_RETURN(
      auto rec, deps.store->GetParse(ctx.document.sha256, parser.Name(), PartialKey(parser)));
  if (!rec) return std::vector<store::PageText>{};
  return std::move(rec->pages);
}

// The first segment of a document: from the estimate, resuming after pages a previous attempt
// already parsed (a requeue, or a chain cut short).
Result<Segment> FirstSegment(const PipelineDeps& deps, const parse::RemoteParser& remote,
                             const parse::ParseInput& input, const JobContext& ctx) {
  Segment seg;
  seg.max_pages = 0;  // ungoverned: the configuration decides
  if (deps.governor == nullptr) return seg;
  INGEST_ASSIGN_OR_RETURN(parse::RemoteParser::SubmitEstimate est, remote.EstimateSubmit(input));
  seg.bound = est.pages;
  seg.max_pages = est.pages;
  seg.total_pages = est.total_pages;
  seg.max_total = est.max_total_pages;
  seg.fixed = est.fixed_selection;
  if (!seg.fixed) {
    INGEST_ASSIGN_OR_RETURN(auto done, PartialPages(deps, remote, ctx));
    if (!done.empty()) {
      seg.first_page = done.back().page;  // 1-based last page = the next 0-based one
      if (seg.total_pages > 0) {
        seg.max_pages = std::min(seg.bound, seg.total_pages - seg.first_page);
      }
    }
  }
  return seg;
}

// One step of a remote parse: submit when the job has no remote id, else poll it.
Result<RemoteStep> StepRemote(const PipelineDeps& deps, const parse::RemoteParser& remote,
                              const parse::ParseInput& input, const JobContext& ctx,
                              SubmitTimes* times_out) {
  if (ctx.job.remote_job_id.empty()) {
    INGEST_ASSIGN_OR_RETURN(auto here, remote.ParseWithoutRemote(input));
    if (here) return RemoteStep{std::move(here), {}, false};
    INGEST_ASSIGN_OR_RETURN(Segment seg, FirstSegment(deps, remote, input, ctx));
    return SubmitRemote(deps, remote, input, ctx, 0, "first", seg);
  }
  INGEST_ASSIGN_OR_RETURN(SubmitTimes times, FindSubmitTimes(deps, ctx));
  *times_out = times;
  const UnixMillis now = deps.clock->NowMillis();
  const bool past_deadline = now - times.first >= remote.PollDeadline().count();
  const std::string& id = ctx.job.remote_job_id;
  // A re-submit of the current job keeps its bounds (and thus reserves the same pages).
  auto same_segment = [&]() -> Result<Segment> {
    if (times.segment) return *times.segment;
    return FirstSegment(deps, remote, input, ctx);
  };
  Result<parse::RemoteParseStatus> polled = remote.Poll(input, id);
  if (polled.ok() && polled->done()) return RemoteStep{std::move(polled->document), {}, false};
  if (!polled.ok()) {
    const Status& st = polled.status();
    // A continuation segment that starts past the last page: the service has nothing to
    // parse there and bills nothing, so the document ended with the previous segment.
    if (st.reason() == "no_data_found" && times.segment && times.segment->first_page > 0) {
      ReleaseRemoteParse(deps, ctx, times, st);
      return RemoteStep{std::nullopt, {}, true};
    }
    // The remote job is gone (404) or expired on the server: its work is lost, so a new
    // submit is the only way forward; the deadline from the first submit bounds how often.
    const bool gone = st.reason() == "remote_job_not_found" || st.reason() == "remote_job_expired";
    if (gone && !past_deadline) {
      INGEST_ASSIGN_OR_RETURN(Segment seg, same_segment());
      return SubmitRemote(deps, remote, input, ctx, times.first, st.reason(), seg);
    }
    // The remote job ended in ERROR: not billed, so its reservation is released and, a few
    // times, the document is submitted again (the service's failures are often transient).
    if (st.reason() == "remote_job_failed") {
      ReleaseRemoteParse(deps, ctx, times, st);
      if (!past_deadline && times.submits < kMaxRemoteSubmits) {
        INGEST_ASSIGN_OR_RETURN(Segment seg, same_segment());
        return SubmitRemote(deps, remote, input, ctx, times.first, st.reason(), seg);
      }
      return st;
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

// Settles the ledger for a remote parse that completed in this run (never for a parse-cache
// hit, and not when auto routing kept the document local): pages and credits as the job's
// metadata reports them (job_credits_usage; 0 when the service served its own cache, still one
// billed job), priced with governor::ParseCostNanos. Governed, the reservation made at submit
// is settled (found through the submit event, else among the job's reserved rows); ungoverned,
// a settled row is upserted. The row id is derived from the remote job id when there is no
// reservation, so a retry after a failed store write never bills the job twice. Written before
// the parse cache so a billed job is never missing from the ledger. A reservation already
// settled (the same finished job seen again after a deferral) is left as it is.
Status SettleRemoteParse(const PipelineDeps& deps, const JobContext& ctx,
                         const parse::ParsedDocument& parsed) {
  nlohmann::json d = nlohmann::json::parse(parsed.detail_json, nullptr, false);
  if (!d.is_object() || !d.contains("remote_job_id")) return Status::Ok();
  auto number = [&](const char* key) -> int64_t {
    const auto it = d.find(key);
    return it != d.end() && it->is_number() ? it->get<int64_t>() : 0;
  };
  const std::string remote_id = d.value("remote_job_id", std::string());
  governor::Usage usage;
  usage.pages = number("job_pages") > 0 ? number("job_pages") : number("pages");
  usage.credits = number("credits");
  usage.requests = 1;
  usage.provider_request_id = remote_id;

  governor::Reservation r;
  r.ledger_id = UuidV5(IngestNamespace(), "ledger:" + parsed.parser + ":" + remote_id);
  r.spec.service = parsed.parser;
  r.spec.operation = "parse";
  r.spec.model = d.value("parse_mode", std::string());
  r.spec.tenant = ctx.document.tenant;
  r.spec.document_id = ctx.document.id;
  r.spec.job_id = ctx.job.id;
  if (deps.governor != nullptr) {
    INGEST_ASSIGN_OR_RETURN(SubmitTimes times, FindSubmitTimes(deps, ctx));
    INGEST_ASSIGN_OR_RETURN(auto rows, deps.store->ListLedger(ctx.document.id));
    const store::LedgerEntry* found = nullptr;
    for (const auto& row : rows) {
      if (!times.reservation_id.empty() && row.id == times.reservation_id) found = &row;
    }
    for (const auto& row : rows) {  // the event was lost: the job's newest open reservation
      if (found == nullptr && row.job_id == ctx.job.id && row.service == parsed.parser &&
          row.state == store::LedgerState::kReserved &&
          (found == nullptr || row.created_at > found->created_at)) {
        found = &row;
      }
    }
    if (found != nullptr) {
      if (found->state == store::LedgerState::kSettled && found->provider_request_id == remote_id) {
        return Status::Ok();
      }
      r.ledger_id = found->id;
      r.estimate_nanos = found->estimate_nanos;
      r.spec.model = found->model;
      r.spec.pages = found->pages;
      r.spec.credits = found->credits;
    }
    // The result is in hand, the ledger not yet settled: the next attempt polls the same remote
    // job (its id is in the job row) and settles it then.
    FailPoint(kFailBeforeSettle);
    return deps.governor->Settle(r, usage);
  }
  int64_t cost = 0;
  if (deps.prices != nullptr) {
    INGEST_ASSIGN_OR_RETURN(cost, governor::ParseCostNanos(*deps.prices, usage.credits));
  }
  store::LedgerEntry entry = governor::LedgerRow(r.spec, usage, cost);
  entry.id = r.ledger_id;
  entry.state = store::LedgerState::kSettled;
  return deps.store->SettleLedger(entry, deps.clock->NowMillis());
}

// Pages of one segment in the document's numbering. The service numbers pages of a
// target_pages upload by their place in the file; a service that numbered them from 1 instead
// is shifted by the segment's first page.
void NumberSegmentPages(const Segment& seg, std::vector<store::PageText>& pages) {
  if (seg.first_page == 0 || pages.empty()) return;
  bool from_one = true;
  for (const auto& p : pages) from_one = from_one && p.page <= static_cast<int>(pages.size());
  if (!from_one || pages.front().page > seg.first_page) return;
  for (auto& p : pages) p.page += static_cast<int>(seg.first_page);
}

// A segment finished: returns the whole document when it was the last one, else submits the
// next segment (under its own reservation) and returns Waiting, or the budget's refusal (the
// job is deferred; the pages so far stay in the partial record and the chain resumes from
// them). A segment is the last when the configuration fixed the pages, when the service
// returned fewer pages than the bound (it reached the end, or billed past max_pages anyway and
// returned everything), or when a known page count is reached.
Result<RemoteStep> FinishSegment(const PipelineDeps& deps, const parse::RemoteParser& remote,
                                 const parse::ParseInput& input, const JobContext& ctx,
                                 const SubmitTimes& times, parse::ParsedDocument segment_doc,
                                 bool ended_without_pages) {
  if (times.segment && times.segment->max_pages <= 0) {
    return RemoteStep{std::move(segment_doc), {}, false};  // unbounded (ungoverned) upload
  }
  // The submit event was lost: the bounds are unknown, so this segment ends the chain (with
  // the pages of the segments before it).
  Segment seg = times.segment ? *times.segment : Segment{0, 0, 0, 0, 0, true};
  INGEST_ASSIGN_OR_RETURN(auto pages, PartialPages(deps, remote, ctx));
  const int64_t got = ended_without_pages ? 0 : static_cast<int64_t>(segment_doc.pages.size());
  if (!ended_without_pages) {
    NumberSegmentPages(seg, segment_doc.pages);
    for (auto& p : segment_doc.pages) {
      if (pages.empty() || p.page > pages.back().page) pages.push_back(std::move(p));
    }
  }
  const int64_t next = pages.empty() ? 0 : pages.back().page;  // 0-based next page
  bool last = seg.fixed || got != seg.max_pages;
  if (seg.total_pages > 0 && next >= seg.total_pages) last = true;
  if (seg.max_total > 0 && next >= seg.max_total) last = true;
  if (last) {
    segment_doc.pages = std::move(pages);
    return RemoteStep{std::move(segment_doc), {}, false};
  }
  store::ParseRecord partial;
  partial.file_sha256 = ctx.document.sha256;
  partial.parser = std::string(remote.Name());
  partial.config_hash = PartialKey(remote);
  partial.detail_json = nlohmann::json{{"partial", true}, {"next_page", next}}.dump();
  partial.pages = std::move(pages);
  partial.created_at = deps.clock->NowMillis();
  INGEST_RETURN_IF_ERROR(deps.store->PutParse(partial));
  Segment following = seg;
  following.first_page = next;
  following.max_pages = seg.bound;
  if (seg.total_pages > 0) following.max_pages = std::min(seg.bound, seg.total_pages - next);
  if (seg.max_total > 0) following.max_pages = std::min(following.max_pages, seg.max_total - next);
  return SubmitRemote(deps, remote, input, ctx, times.first, "next_segment", following);
}

// "1-3,5" for pages {1,2,3,5} (ascending).
std::string PageRanges(const std::vector<int>& pages) {
  std::string out;
  for (size_t i = 0; i < pages.size();) {
    size_t j = i;
    while (j + 1 < pages.size() && pages[j + 1] == pages[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(pages[i]);
    if (j > i) out += "-" + std::to_string(pages[j]);
    i = j + 1;
  }
  return out;
}

// Which parser produced each page (detail "page_parsers", one name per page; every page is the
// document's parser when the parser does not say), as {parser: "1-3,5"}, plus what OCR found.
// Appended as the job event kPagesEvent, which `ingestd jobs show` and the API's job view read.
constexpr const char* kPagesEvent = "parse.pages";

nlohmann::json PagesSummary(const store::ParseRecord& rec, const std::string& produced_by) {
  nlohmann::json detail = nlohmann::json::parse(rec.detail_json, nullptr, false);
  std::map<std::string, std::vector<int>> by_parser;
  const nlohmann::json* page_parsers = nullptr;
  if (detail.is_object()) {
    auto it = detail.find("page_parsers");
    if (it != detail.end() && it->is_array()) page_parsers = &*it;
  }
  for (const auto& p : rec.pages) {
    std::string parser = produced_by;
    const size_t index = static_cast<size_t>(p.page - 1);
    if (page_parsers != nullptr && index < page_parsers->size() &&
        (*page_parsers)[index].is_string()) {
      parser = (*page_parsers)[index].get<std::string>();
    }
    by_parser[parser].push_back(p.page);
  }
  nlohmann::json parsers = nlohmann::json::object();
  for (const auto& [parser, pages] : by_parser) parsers[parser] = PageRanges(pages);
  nlohmann::json out = {{"parsers", parsers}};
  if (detail.is_object()) {
    for (const char* key : {"ocr_low_confidence_pages", "ocr_failed_pages", "ocr_routed_pages"}) {
      if (auto it = detail.find(key); it != detail.end() && !it->empty()) out[key] = *it;
    }
    if (auto ocr = detail.find("ocr"); ocr != detail.end() && ocr->is_object()) {
      double sum = 0;
      int n = 0;
      for (const auto& page : ocr->value("pages", nlohmann::json::array())) {
        if (page.value("used", false) && page.value("words", 0) > 0) {
          sum += page.value("confidence", 0.0);
          ++n;
        }
      }
      out["ocr_pages"] = ocr->value("pages_recognised", 0);
      out["ocr_seconds"] = ocr->value("seconds", 0.0);
      if (n > 0) out["ocr_mean_confidence"] = std::round(sum / n * 10) / 10;
    }
  }
  return out;
}

// OCR is free but counted: one settled $0 row (service "local", operation "ocr", the pages
// recognised) so the savings report sees the pages that were not sent to a paid parser. The
// id derives from the job and the parse, so a stage re-run after a crash rewrites the same row.
Status RecordLocalOcr(const PipelineDeps& deps, JobContext& ctx, const store::ParseRecord& rec) {
  nlohmann::json detail = nlohmann::json::parse(rec.detail_json, nullptr, false);
  if (!detail.is_object()) return Status::Ok();
  auto ocr = detail.find("ocr");
  if (ocr == detail.end() || !ocr->is_object()) return Status::Ok();
  const int64_t pages = ocr->value("pages_recognised", int64_t{0});
  if (pages <= 0) return Status::Ok();
  ctx.stats.ocr_pages = pages;
  ctx.stats.ocr_seconds = ocr->value("seconds", 0.0);
  store::LedgerEntry entry;
  entry.id = UuidV5(IngestNamespace(), "ledger:local:ocr:" + ctx.job.id + ":" + rec.file_sha256 +
                                           ":" + rec.config_hash);
  entry.service = "local";
  entry.operation = "ocr";
  entry.tenant = ctx.document.tenant;
  entry.document_id = ctx.document.id;
  entry.job_id = ctx.job.id;
  entry.model = ocr->value("engine", std::string("tesseract"));
  entry.pages = pages;
  entry.requests = 1;
  entry.cost_nanos = 0;
  entry.state = store::LedgerState::kSettled;
  return deps.store->SettleLedger(entry, deps.clock->NowMillis());
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
      SubmitTimes times;
      Result<RemoteStep> step = StepRemote(deps_, *remote, input, ctx, &times);
      if (step.ok() && (step->document || step->ended_without_pages) &&
          !ctx.job.remote_job_id.empty()) {
        // A remote job (one segment) finished: settle it, then finish or continue the chain.
        parse::ParsedDocument segment_doc;
        if (step->document) {
          segment_doc = std::move(*step->document);
          INGEST_RETURN_IF_ERROR(SettleRemoteParse(deps_, ctx, segment_doc));
        } else {
          segment_doc.parser = std::string(remote->Name());
          segment_doc.detail_json = nlohmann::json{
              {"remote_job_id", ctx.job.remote_job_id},
              {"parse_mode", ""},
              {"segments_end", true}}.dump();
        }
        step = FinishSegment(deps_, *remote, input, ctx, times, std::move(segment_doc),
                             step->ended_without_pages);
      }
      if (!step.ok()) {
        INGEST_ASSIGN_OR_RETURN(auto local,
                                remote->Fallback(input, step.status(), ctx.job.attempts + 1));
        if (!local) return step.status();
        step = RemoteStep{std::move(local), {}, false};
      }
      if (!step->document) return std::move(step->waiting);
      parsed = std::move(*step->document);
      if (parsed.type == parse::DocType::kUnknown) {
        parsed.type = parse::DetectType("", input.filename);  // a chain that ended past its end
      }
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
    INGEST_RETURN_IF_ERROR(RecordLocalOcr(deps_, ctx, rec));
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
  INGEST_RETURN_IF_ERROR(
      AppendJobEvent(deps_, ctx, kPagesEvent, PagesSummary(rec, produced_by).dump()));
  return StageResult::Done();
}

}  // namespace ingest::pipeline
