// Embedder: texts in, vectors out (DESIGN §1, embed stage; §4 embedders).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/store/types.h"

namespace ingest::embed {

struct EmbedUsage {
  int64_t tokens = 0;  // provider-reported (usage.total_tokens) or counted locally
  // Billed HTTP requests: the ones that returned vectors (0 for local). Refused or failed
  // attempts that were retried are not billed and not counted, so the ledger's request count
  // equals the provider's.
  int64_t requests = 0;
  std::vector<std::string> request_ids;
};

struct EmbedOutput {
  // vectors[i] belongs to texts[i]; each has Space().dimensions floats, L2-normalised.
  std::vector<std::vector<float>> vectors;
  EmbedUsage usage;
};

// Thread-safe; shared by all workers. Never returns a placeholder: either every input has its
// vector or the call fails.
class Embedder {
 public:
  virtual ~Embedder() = default;
  // "local", "openai".
  virtual std::string_view Provider() const = 0;
  // Display name, e.g. "lexical (hashed n-grams, not semantic)" or "openai text-embedding-3-small".
  virtual std::string Describe() const = 0;
  virtual const store::VectorSpace& Space() const = 0;
  virtual Result<EmbedOutput> Embed(std::span<const std::string> texts) const = 0;
  // Embed, and when the call fails part-way, what the provider had already billed for it
  // (earlier requests of a call split into several) in *billed_on_error, so the ledger can
  // settle exactly that. Embedders that bill nothing need not override it.
  virtual Result<EmbedOutput> EmbedBilled(std::span<const std::string> texts,
                                          EmbedUsage* billed_on_error) const {
    (void)billed_on_error;
    return Embed(texts);
  }
};

}  // namespace ingest::embed
