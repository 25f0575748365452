#include "ingest/store/postgres/rows.h"

#include <bit>
#include <cstring>

namespace ingest::store::postgres {
namespace {

Status Corrupt(const Status& st, std::string_view what) {
  return DataLoss("stored " + std::string(what) + " unreadable: " + st.message(), "bad_row");
}

}  // namespace

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out += p;
  return out;
}

Result<Job> ReadJob(const pqxx::row& r, int c) {
  Job j;
  j.id = Text(r[c + 0]);
  j.document_id = Text(r[c + 1]);
  auto stage = ParseStage(TextView(r[c + 2]));
  if (!stage.ok()) return Corrupt(stage.status(), "job stage");
  j.stage = *stage;
  auto state = ParseJobState(TextView(r[c + 3]));
  if (!state.ok()) return Corrupt(state.status(), "job state");
  j.state = *state;
  j.attempts = static_cast<int>(Int(r[c + 4]));
  j.max_attempts = static_cast<int>(Int(r[c + 5]));
  j.lease_owner = Text(r[c + 6]);
  j.lease_expires_at = Int(r[c + 7]);
  j.next_attempt_at = Int(r[c + 8]);
  j.defer_reason = Text(r[c + 9]);
  j.last_error_code = Text(r[c + 10]);
  j.last_error_message = Text(r[c + 11]);
  j.last_error_stage = Text(r[c + 12]);
  j.remote_job_id = Text(r[c + 13]);
  auto lane = ParseLane(TextView(r[c + 14]));
  if (!lane.ok()) return Corrupt(lane.status(), "job lane");
  j.lane = *lane;
  j.priority = static_cast<int>(Int(r[c + 15]));
  j.correlation_id = Text(r[c + 16]);
  j.version = Int(r[c + 17]);
  j.created_at = Int(r[c + 18]);
  j.updated_at = Int(r[c + 19]);
  j.completed_at = Int(r[c + 20]);
  return j;
}

Document ReadDocument(const pqxx::row& r, int c) {
  Document d;
  d.id = Text(r[c + 0]);
  d.tenant = Text(r[c + 1]);
  d.filename = Text(r[c + 2]);
  d.mime = Text(r[c + 3]);
  d.bytes = Int(r[c + 4]);
  d.sha256 = Text(r[c + 5]);
  d.blob_key = Text(r[c + 6]);
  d.page_count = static_cast<int>(Int(r[c + 7]));
  d.parser = Text(r[c + 8]);
  d.parse_note = Text(r[c + 9]);
  d.created_at = Int(r[c + 10]);
  d.updated_at = Int(r[c + 11]);
  d.external_id = Text(r[c + 12]);
  d.metadata_json = Text(r[c + 13]);
  d.version = static_cast<int>(Int(r[c + 14]));
  d.deleted_at = Int(r[c + 15]);
  d.deleted_reason = Text(r[c + 16]);
  return d;
}

Chunk ReadChunk(const pqxx::row& r, int c) {
  Chunk k;
  k.id = Text(r[c + 0]);
  k.document_id = Text(r[c + 1]);
  k.ordinal = static_cast<int>(Int(r[c + 2]));
  k.text = Text(r[c + 3]);
  k.text_sha256 = Text(r[c + 4]);
  k.token_count = static_cast<int>(Int(r[c + 5]));
  k.heading_path = Text(r[c + 6]);
  k.page_start = static_cast<int>(Int(r[c + 7]));
  k.page_end = static_cast<int>(Int(r[c + 8]));
  return k;
}

Result<LedgerEntry> ReadLedger(const pqxx::row& r, int c) {
  LedgerEntry e;
  e.id = Text(r[c + 0]);
  e.service = Text(r[c + 1]);
  e.operation = Text(r[c + 2]);
  e.tenant = Text(r[c + 3]);
  e.document_id = Text(r[c + 4]);
  e.job_id = Text(r[c + 5]);
  e.model = Text(r[c + 6]);
  e.tokens = Int(r[c + 7]);
  e.pages = Int(r[c + 8]);
  e.credits = Int(r[c + 9]);
  e.requests = Int(r[c + 10]);
  e.cost_nanos = Int(r[c + 11]);
  auto state = ParseLedgerState(TextView(r[c + 12]));
  if (!state.ok()) return Corrupt(state.status(), "ledger state");
  e.state = *state;
  e.provider_request_id = Text(r[c + 13]);
  e.created_at = Int(r[c + 14]);
  e.updated_at = Int(r[c + 15]);
  e.estimate_nanos = Int(r[c + 16]);
  e.expires_at = Int(r[c + 17]);
  e.note = Text(r[c + 18]);
  e.sent_at = Int(r[c + 19]);
  return e;
}

std::string EncodeVector(std::span<const float> values) {
  std::string out(values.size() * sizeof(float), '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    const uint32_t bits = std::bit_cast<uint32_t>(values[i]);
    for (int b = 0; b < 4; ++b) out[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
  }
  return out;
}

Status DecodeVector(std::string_view bytes, int dimensions, std::vector<float>* out) {
  if (dimensions < 0 || bytes.size() != static_cast<size_t>(dimensions) * sizeof(float)) {
    return DataLoss("stored vector has " + std::to_string(bytes.size()) + " bytes, expected " +
                        std::to_string(dimensions) + " float32 values",
                    "bad_vector");
  }
  out->resize(static_cast<size_t>(dimensions));
  for (size_t i = 0; i < out->size(); ++i) {
    uint32_t bits = 0;
    for (int b = 0; b < 4; ++b) {
      bits |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i * 4 + b])) << (8 * b);
    }
    (*out)[i] = std::bit_cast<float>(bits);
  }
  return Status::Ok();
}

}  // namespace ingest::store::postgres
