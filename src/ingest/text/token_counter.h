#ifndef INGEST_TEXT_TOKEN_COUNTER_H_
#define INGEST_TEXT_TOKEN_COUNTER_H_

#include <cstddef>
#include <string_view>

namespace ingest::text {

// Counts tokens the way a model's tokenizer does. The chunker and the governor depend only on
// this interface, so tests can substitute a trivial counter and production uses
// text::Tokenizer (cl100k_base / o200k_base). Implementations must be thread-safe: one counter
// is shared by all worker threads. Count never fails: any byte string, including invalid UTF-8,
// has a defined count.
class TokenCounter {
 public:
  virtual ~TokenCounter() = default;
  virtual size_t Count(std::string_view text) const = 0;
};

}  // namespace ingest::text

#endif  // INGEST_TEXT_TOKEN_COUNTER_H_
