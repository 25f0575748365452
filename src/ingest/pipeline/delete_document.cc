#include "ingest/pipeline/delete_document.h"

#include <nlohmann/json.hpp>

#include "ingest/pipeline/operator_actions.h"
#include "ingest/store/blob_store.h"
#include "ingest/store/store.h"

namespace ingest::pipeline {

Result<DeleteOutcome> DeleteDocument(const PipelineDeps& deps, std::string_view document_id) {
  store::Store& store = *deps.store;
  INGEST_ASSIGN_OR_RETURN(store::Document doc, store.GetDocument(document_id));
  if (doc.deleted_at != 0) return NotFound("document " + std::string(document_id) + " not found");
  DeleteOutcome out;
  store::JobFilter jobs;
  jobs.document_id = doc.id;
  jobs.limit = 0;
  INGEST_ASSIGN_OR_RETURN(std::vector<store::JobView> views, store.ListJobs(jobs));
  for (const store::JobView& v : views) {
    if (store::IsTerminal(v.job.state)) continue;
    auto cancelled = CancelJob(store, *deps.clock, v.job.id);
    // Finished meanwhile (complete): nothing left to stop.
    if (!cancelled.ok() && cancelled.status().code() != StatusCode::kFailedPrecondition) {
      return cancelled.status();
    }
    if (cancelled.ok()) ++out.jobs_cancelled;
  }
  const UnixMillis now = deps.clock->NowMillis();
  INGEST_ASSIGN_OR_RETURN(out.deleted, store.DeleteDocument(doc.id, "deleted", now));
  store::Event e;
  e.at = now;
  e.kind = "document.deleted";
  e.document_id = doc.id;
  // No filename or metadata: the event log outlives the document (legal deletion).
  e.detail_json = nlohmann::json{{"chunks", out.deleted.chunks},
                                 {"vectors", out.deleted.vectors},
                                 {"jobs_cancelled", out.jobs_cancelled},
                                 {"parse_removed", out.deleted.parse_removed}}
                      .dump();
  INGEST_RETURN_IF_ERROR(store.AppendEvent(e));
  if (deps.blobs != nullptr) {
    INGEST_ASSIGN_OR_RETURN(out.blobs_removed, PurgeOrphanBlobs(store, *deps.blobs));
  }
  return out;
}

Result<int64_t> PurgeOrphanBlobs(store::Store& store, store::BlobStore& blobs) {
  constexpr int kBatch = 256;
  int64_t removed = 0;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(std::vector<std::string> keys, store.ListOrphanBlobs(kBatch));
    int64_t forgotten = 0;
    for (const std::string& key : keys) {
      // Forget first: when a live document took the key meanwhile, the blob stays.
      INGEST_ASSIGN_OR_RETURN(bool orphan, store.ForgetBlob(key));
      if (!orphan) continue;
      ++forgotten;
      INGEST_RETURN_IF_ERROR(blobs.Delete(key));
      ++removed;
    }
    if (keys.size() < static_cast<size_t>(kBatch) || forgotten == 0) break;
  }
  return removed;
}

}  // namespace ingest::pipeline
