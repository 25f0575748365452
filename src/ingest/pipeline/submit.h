// Submission: the receive stage (DESIGN §1). Stores the file's bytes content-addressed and
// creates the document and its job in one store transaction.
#pragma once

#include <string>
#include <string_view>

#include "ingest/common/result.h"
#include "ingest/pipeline/pipeline_deps.h"
#include "ingest/store/types.h"

namespace ingest::pipeline {

struct SubmitOptions {
  std::string filename;  // recorded name; "" = the path as given
  store::Lane lane = store::Lane::kBulk;
  int priority = 0;
  std::string correlation_id;  // "" = a fresh UUIDv4
  // The caller's stable key: an upload under a known external_id becomes the next version
  // (docs/documents.md). "" = none. Checked by store::ValidateExternalId.
  std::string external_id;
  // A JSON object, already normalised (store::NormalizeMetadata). "" = not given (a re-upload
  // of known bytes keeps the stored metadata).
  std::string metadata_json;
};

struct SubmitOutcome {
  store::Document document;
  store::Job job;        // the new job, or the existing one as it is now
  bool created = false;  // false: this tenant already had the document (same sha256)
  // Only meaningful when !created: what `ingestd ingest` should tell the user.
  //   kAlreadyComplete: already ingested, nothing to do.
  //   kInProgress:      an earlier submission is still being processed (or waits/deferred).
  //   kNeedsOperator:   the earlier job failed, died or was cancelled; it is NOT redone
  //                     automatically (`ingestd jobs retry JOB` does that).
  enum class Existing { kNone, kAlreadyComplete, kInProgress, kNeedsOperator };
  Existing existing = Existing::kNone;
};

// Submits the file at `path` for `tenant`. Checks, in order: that `path` is a regular file
// (kNotFound / kInvalidArgument "not_a_file"), its size against deps.limits.max_bytes before
// reading a byte (kResourceExhausted "file_too_large", a permanent error), then stores the blob
// (BlobStore::PutFile, which hashes it), detects the type from the first bytes (mime is left
// empty when the content is not recognised; the parser then reports it), and calls
// Store::SubmitDocument with document id = DocumentId(tenant, sha256) and job id =
// JobId(document id). A new job starts queued at stage parse, due now, with
// deps.retry.max_attempts; a stage timing "receive" and an event "job.submitted" are recorded.
// Idempotent: submitting the same bytes again returns the existing rows (created = false),
// updating metadata and adopting an external_id as Store::SubmitDocument says. Bytes of a
// deleted or superseded document revive it with a new job (random id; created = true).
// Thread-safe.
Result<SubmitOutcome> SubmitFile(const PipelineDeps& deps, const std::string& path,
                                 std::string_view tenant, const SubmitOptions& options = {});

}  // namespace ingest::pipeline
