#include "ingest/pipeline/submit.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "ingest/common/ids.h"
#include "ingest/parse/detect.h"
#include "ingest/store/metadata.h"

namespace ingest::pipeline {
namespace {

// The first bytes DetectType needs; a ZIP (DOCX candidate) must be read whole because its
// directory sits at the end. The size limit was checked before this is called.
Result<std::string> ReadHead(const std::string& path, int64_t size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path, "file_unreadable");
  std::string head(std::min<size_t>(parse::kDetectHeadBytes, static_cast<size_t>(size)), '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (head.rfind("PK\x03\x04", 0) == 0 && static_cast<size_t>(size) > head.size()) {
    std::string rest(static_cast<size_t>(size) - head.size(), '\0');
    in.read(rest.data(), static_cast<std::streamsize>(rest.size()));
    rest.resize(static_cast<size_t>(in.gcount()));
    head += rest;
  }
  return head;
}

SubmitOutcome::Existing Classify(const store::Job& job) {
  switch (job.state) {
    case store::JobState::kComplete:
      return SubmitOutcome::Existing::kAlreadyComplete;
    case store::JobState::kFailed:
    case store::JobState::kDead:
    case store::JobState::kCancelled:
      return SubmitOutcome::Existing::kNeedsOperator;
    default:
      return SubmitOutcome::Existing::kInProgress;
  }
}

}  // namespace

Result<SubmitOutcome> SubmitFile(const PipelineDeps& deps, const std::string& path,
                                 std::string_view tenant, const SubmitOptions& options) {
  if (tenant.empty()) return InvalidArgument("tenant must not be empty", "bad_tenant");
  if (!options.external_id.empty()) {
    INGEST_RETURN_IF_ERROR(store::ValidateExternalId(options.external_id));
  }
  const UnixMillis started = deps.clock->NowMillis();
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) {
    return NotFound("no such file: " + path, "file_not_found");
  }
  if (!std::filesystem::is_regular_file(st)) {
    return InvalidArgument(path + " is not a regular file", "not_a_file");
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return NotFound("cannot stat " + path + ": " + ec.message(), "file_unreadable");
  if (static_cast<int64_t>(size) > deps.limits.max_bytes) {
    return ResourceExhausted(path + " is " + std::to_string(size) + " bytes; the limit is " +
                                 std::to_string(deps.limits.max_bytes),
                             "file_too_large");
  }

  INGEST_ASSIGN_OR_RETURN(std::string key, deps.blobs->PutFile(path));
  INGEST_ASSIGN_OR_RETURN(std::string head, ReadHead(path, static_cast<int64_t>(size)));
  const std::string filename = options.filename.empty() ? path : options.filename;
  const parse::DocType type = parse::DetectType(head, filename);

  store::Document doc;
  doc.id = DocumentId(tenant, key);
  doc.tenant = std::string(tenant);
  doc.filename = filename;
  doc.mime = type == parse::DocType::kUnknown ? "" : std::string(parse::DocTypeMime(type));
  doc.bytes = static_cast<int64_t>(size);
  doc.sha256 = key;
  doc.blob_key = key;
  doc.created_at = started;
  doc.updated_at = started;
  doc.external_id = options.external_id;
  doc.metadata_json = options.metadata_json;

  store::Job job;
  // A tombstone's first job keeps its id (and its history); a revival gets a fresh one.
  auto known = deps.store->GetDocument(doc.id);
  const bool revival = known.ok() && known->deleted_at != 0;
  job.id = revival ? UuidV4() : JobId(doc.id);
  job.document_id = doc.id;
  job.stage = store::Stage::kParse;
  job.state = store::JobState::kQueued;
  job.max_attempts = deps.retry.max_attempts;
  job.next_attempt_at = started;
  job.lane = options.lane;
  job.priority = options.priority;
  job.correlation_id = options.correlation_id.empty() ? UuidV4() : options.correlation_id;
  job.created_at = started;
  job.updated_at = started;

  INGEST_ASSIGN_OR_RETURN(store::SubmitResult submitted, deps.store->SubmitDocument(doc, job));
  SubmitOutcome out;
  out.document = std::move(submitted.document);
  out.job = std::move(submitted.job);
  out.created = submitted.created;
  if (!out.created) {
    out.existing = Classify(out.job);
    return out;
  }
  const UnixMillis finished = deps.clock->NowMillis();
  INGEST_RETURN_IF_ERROR(deps.store->RecordStageTiming(
      out.job.id, store::StageTiming{store::Stage::kReceive, 1, started, finished, "ok"}));
  store::Event e;
  e.at = finished;
  e.kind = "job.submitted";
  e.job_id = out.job.id;
  e.document_id = out.document.id;
  e.correlation_id = out.job.correlation_id;
  e.detail_json =
      nlohmann::json{{"filename", out.document.filename},       {"bytes", out.document.bytes},
                     {"sha256", out.document.sha256},           {"mime", out.document.mime},
                     {"external_id", out.document.external_id}, {"version", out.document.version},
                     {"lane", store::LaneName(out.job.lane)}}
          .dump();
  INGEST_RETURN_IF_ERROR(deps.store->AppendEvent(e));
  return out;
}

}  // namespace ingest::pipeline
