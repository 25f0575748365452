#include <nlohmann/json.hpp>

#include "ingest/governor/governor.h"
#include "ingest/pipeline/stages/stage_support.h"
#include "ingest/pipeline/stages/stages.h"

namespace ingest::pipeline {

Result<StageResult> AccountStage::Run(JobContext& ctx) const {
  if (deps_.governor != nullptr) {
    INGEST_ASSIGN_OR_RETURN(governor::Governor::Reconciled reconciled,
                            deps_.governor->ReconcileJob(ctx.document.id, ctx.job.id));
    if (reconciled.total() > 0) {
      INGEST_RETURN_IF_ERROR(AppendJobEvent(deps_, ctx, "ledger.reconciled",
                                            nlohmann::json{{"rows", reconciled.total()},
                                                           {"settled", reconciled.settled},
                                                           {"released", reconciled.released}}
                                                .dump()));
    }
  }
  INGEST_ASSIGN_OR_RETURN(std::vector<store::LedgerEntry> rows,
                          deps_.store->ListLedger(ctx.document.id));
  int64_t cost = 0, tokens = 0, pages = 0, requests = 0;
  for (const auto& r : rows) {
    if (r.state == store::LedgerState::kReserved && r.job_id == ctx.job.id) {
      return FailedPrecondition("ledger row " + r.id + " (" + r.service + " " + r.operation +
                                    ") of job " + ctx.job.id +
                                    " is still reserved; it must be settled from the provider's "
                                    "usage before the document's cost is final",
                                "unsettled_reservation");
    }
    if (r.state == store::LedgerState::kReleased) continue;
    cost += r.cost_nanos;
    tokens += r.tokens;
    pages += r.pages;
    requests += r.requests;
  }
  INGEST_RETURN_IF_ERROR(AppendJobEvent(deps_, ctx, "document.cost",
                                        nlohmann::json{{"cost_nanos", cost},
                                                       {"tokens", tokens},
                                                       {"pages", pages},
                                                       {"requests", requests},
                                                       {"ledger_rows", rows.size()}}
                                            .dump()));
  return StageResult::Done();
}

}  // namespace ingest::pipeline
