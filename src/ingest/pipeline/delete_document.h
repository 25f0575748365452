// Deleting a document (DELETE /v1/documents/{id}, `ingestd documents delete`): what the
// store keeps and removes is in docs/documents.md.
#pragma once

#include <string_view>

#include "ingest/common/result.h"
#include "ingest/pipeline/pipeline_deps.h"
#include "ingest/store/types.h"

namespace ingest::pipeline {

struct DeleteOutcome {
  store::DeletedDocument deleted;
  int64_t jobs_cancelled = 0;
  int64_t blobs_removed = 0;
};

// Cancels the document's unfinished jobs through the state machine (a worker holding one
// loses its lease at its next heartbeat or transition), then deletes the document
// (Store::DeleteDocument: from then on no search returns it), then removes the blobs no live
// document holds (PurgeOrphanBlobs). Appends an event "document.deleted". kNotFound for an
// unknown or already deleted document. Thread-safe.
Result<DeleteOutcome> DeleteDocument(const PipelineDeps& deps, std::string_view document_id);

// Removes from the blob store every blob only tombstones hold (Store::ListOrphanBlobs), and
// makes the tombstones forget them. Returns how many were removed. Runs after deletions and
// version swaps; safe to run at any time from any process.
Result<int64_t> PurgeOrphanBlobs(store::Store& store, store::BlobStore& blobs);

}  // namespace ingest::pipeline
