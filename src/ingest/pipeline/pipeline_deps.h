// Everything the pipeline's stages, workers and submission need, as non-owning pointers.
// app/ owns the objects and keeps them alive longer than any WorkerPool or call using them.
#pragma once

#include "ingest/common/clock.h"
#include "ingest/common/status.h"
#include "ingest/embed/embedder.h"
#include "ingest/governor/governor.h"
#include "ingest/governor/pricing.h"
#include "ingest/governor/retry_policy.h"
#include "ingest/parse/parser.h"
#include "ingest/store/blob_store.h"
#include "ingest/store/store.h"
#include "ingest/text/chunker.h"
#include "ingest/text/token_counter.h"

namespace ingest::pipeline {

// A plain bundle; copying it copies the pointers. Every pointee is thread-safe by its own
// contract (Store, BlobStore, Parser, Embedder, TokenCounter, Clock).
struct PipelineDeps {
  store::Store* store = nullptr;
  store::BlobStore* blobs = nullptr;
  const parse::Parser* parser = nullptr;
  const embed::Embedder* embedder = nullptr;
  const text::TokenCounter* tokens = nullptr;
  // Counts tokens the way the embedder's provider bills them (cl100k_base for OpenAI models),
  // for exact cost estimates. nullptr = `tokens`.
  const text::TokenCounter* embed_tokens = nullptr;
  Clock* clock = nullptr;
  // Prices for ledger rows' cost_nanos. nullptr records every cost as 0 and is refused by
  // ValidatePipelineDeps for a paid embedder ("openai"); App always sets it.
  const governor::PriceTable* prices = nullptr;
  // Estimate → reserve → settle for every paid call (budgets, rate limits, breakers, provider
  // stops). nullptr = ungoverned: costs are recorded after each call but nothing is reserved or
  // capped (unit tests with hand-built deps; App always sets it).
  governor::Governor* governor = nullptr;
  text::ChunkerOptions chunker;
  parse::ParseLimits limits;
  governor::RetryPolicy retry;
  // Texts per Embedder::Embed call. The embedder may split further to fit provider limits.
  int embed_batch_size = 64;
  // Bound of the store's query vector cache (search queries; pipeline/query_embedding.h).
  int64_t query_cache_entries = 10000;
};

// kInvalidArgument naming the first missing pointer or bad option.
Status ValidatePipelineDeps(const PipelineDeps& deps);

}  // namespace ingest::pipeline
