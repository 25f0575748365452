#include "ingest/store/sqlite/rows.h"

#include <bit>
#include <cstring>
#include <string>

namespace ingest::store::sqlite {
namespace {

Status Corrupt(const Status& st, std::string_view what) {
  return DataLoss("stored " + std::string(what) + " unreadable: " + st.message(), "bad_row");
}

}  // namespace

Result<Job> ReadJob(const Stmt& s, int c) {
  Job j;
  j.id = s.Text(c + 0);
  j.document_id = s.Text(c + 1);
  auto stage = ParseStage(s.TextView(c + 2));
  if (!stage.ok()) return Corrupt(stage.status(), "job stage");
  j.stage = *stage;
  auto state = ParseJobState(s.TextView(c + 3));
  if (!state.ok()) return Corrupt(state.status(), "job state");
  j.state = *state;
  j.attempts = static_cast<int>(s.Int(c + 4));
  j.max_attempts = static_cast<int>(s.Int(c + 5));
  j.lease_owner = s.Text(c + 6);
  j.lease_expires_at = s.Int(c + 7);
  j.next_attempt_at = s.Int(c + 8);
  j.defer_reason = s.Text(c + 9);
  j.last_error_code = s.Text(c + 10);
  j.last_error_message = s.Text(c + 11);
  j.last_error_stage = s.Text(c + 12);
  j.remote_job_id = s.Text(c + 13);
  auto lane = ParseLane(s.TextView(c + 14));
  if (!lane.ok()) return Corrupt(lane.status(), "job lane");
  j.lane = *lane;
  j.priority = static_cast<int>(s.Int(c + 15));
  j.correlation_id = s.Text(c + 16);
  j.version = s.Int(c + 17);
  j.created_at = s.Int(c + 18);
  j.updated_at = s.Int(c + 19);
  j.completed_at = s.Int(c + 20);
  return j;
}

Document ReadDocument(const Stmt& s, int c) {
  Document d;
  d.id = s.Text(c + 0);
  d.tenant = s.Text(c + 1);
  d.filename = s.Text(c + 2);
  d.mime = s.Text(c + 3);
  d.bytes = s.Int(c + 4);
  d.sha256 = s.Text(c + 5);
  d.blob_key = s.Text(c + 6);
  d.page_count = static_cast<int>(s.Int(c + 7));
  d.parser = s.Text(c + 8);
  d.parse_note = s.Text(c + 9);
  d.created_at = s.Int(c + 10);
  d.updated_at = s.Int(c + 11);
  d.external_id = s.Text(c + 12);
  d.metadata_json = s.Text(c + 13);
  d.version = static_cast<int>(s.Int(c + 14));
  d.deleted_at = s.Int(c + 15);
  d.deleted_reason = s.Text(c + 16);
  return d;
}

Chunk ReadChunk(const Stmt& s, int c) {
  Chunk k;
  k.id = s.Text(c + 0);
  k.document_id = s.Text(c + 1);
  k.ordinal = static_cast<int>(s.Int(c + 2));
  k.text = s.Text(c + 3);
  k.text_sha256 = s.Text(c + 4);
  k.token_count = static_cast<int>(s.Int(c + 5));
  k.heading_path = s.Text(c + 6);
  k.page_start = static_cast<int>(s.Int(c + 7));
  k.page_end = static_cast<int>(s.Int(c + 8));
  return k;
}

Result<LedgerEntry> ReadLedger(const Stmt& s, int c) {
  LedgerEntry e;
  e.id = s.Text(c + 0);
  e.service = s.Text(c + 1);
  e.operation = s.Text(c + 2);
  e.tenant = s.Text(c + 3);
  e.document_id = s.Text(c + 4);
  e.job_id = s.Text(c + 5);
  e.model = s.Text(c + 6);
  e.tokens = s.Int(c + 7);
  e.pages = s.Int(c + 8);
  e.credits = s.Int(c + 9);
  e.requests = s.Int(c + 10);
  e.cost_nanos = s.Int(c + 11);
  auto state = ParseLedgerState(s.TextView(c + 12));
  if (!state.ok()) return Corrupt(state.status(), "ledger state");
  e.state = *state;
  e.provider_request_id = s.Text(c + 13);
  e.created_at = s.Int(c + 14);
  e.updated_at = s.Int(c + 15);
  e.estimate_nanos = s.Int(c + 16);
  e.expires_at = s.Int(c + 17);
  e.note = s.Text(c + 18);
  e.sent_at = s.Int(c + 19);
  return e;
}

void BindLedger(Stmt& s, const LedgerEntry& e, int c) {
  s.Bind(c + 0, e.id).Bind(c + 1, e.service).Bind(c + 2, e.operation).Bind(c + 3, e.tenant);
  s.Bind(c + 4, e.document_id).Bind(c + 5, e.job_id).Bind(c + 6, e.model).Bind(c + 7, e.tokens);
  s.Bind(c + 8, e.pages).Bind(c + 9, e.credits).Bind(c + 10, e.requests);
  s.Bind(c + 11, e.cost_nanos).Bind(c + 12, LedgerStateName(e.state));
  s.Bind(c + 13, e.provider_request_id).Bind(c + 14, e.created_at).Bind(c + 15, e.updated_at);
  s.Bind(c + 16, e.estimate_nanos).Bind(c + 17, e.expires_at).Bind(c + 18, e.note);
  s.Bind(c + 19, e.sent_at);
}

std::string EncodeVector(std::span<const float> values) {
  std::string out(values.size() * sizeof(float), '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits = std::bit_cast<uint32_t>(values[i]);
    for (int b = 0; b < 4; ++b) out[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
  }
  return out;
}

Status DecodeVector(std::span<const std::byte> blob, int dimensions, std::vector<float>* out) {
  if (dimensions < 0 || blob.size() != static_cast<size_t>(dimensions) * sizeof(float)) {
    return DataLoss("stored vector has " + std::to_string(blob.size()) + " bytes, expected " +
                        std::to_string(dimensions) + " float32 values",
                    "bad_vector");
  }
  out->resize(static_cast<size_t>(dimensions));
  if constexpr (std::endian::native == std::endian::little) {
    if (!blob.empty()) std::memcpy(out->data(), blob.data(), blob.size());
  } else {
    for (size_t i = 0; i < out->size(); ++i) {
      uint32_t bits = 0;
      for (int b = 0; b < 4; ++b) {
        bits |= static_cast<uint32_t>(std::to_integer<uint8_t>(blob[i * 4 + b])) << (8 * b);
      }
      (*out)[i] = std::bit_cast<float>(bits);
    }
  }
  return Status::Ok();
}

}  // namespace ingest::store::sqlite
