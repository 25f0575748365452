// Exact byte-level BPE tokenizers for OpenAI's cl100k_base (all OpenAI embedding models) and
// o200k_base encodings. Token ids are identical to OpenAI's tiktoken; tests/scripts/
// tokenizer_conformance_test.sh checks that against independent implementations from npm.
//
// Text is split into pieces by each encoding's pre-tokenization rules (tiktoken's regex,
// implemented as a hand-written scanner over code points, see pretokenizer.h), and each piece is
// BPE-merged with the encoding's ranks. The rank files are embedded in the binary at build time
// (see docs/tokenizer.md), so loading needs no files and cannot fail in a correct build.
//
// Special tokens: text that contains a special-token string such as "<|endoftext|>" is encoded
// as ordinary text, exactly as the OpenAI embeddings API does; Encode never emits special ids.
// Decode accepts them (it returns their string form).
//
// Invalid UTF-8 (the validate stage normally removes it upstream): every byte that is not part
// of a well-formed UTF-8 sequence (strict: no overlongs, surrogates or code points above
// U+10FFFF) becomes a piece of its own, encoded as that single byte's token, and splits the text
// around it as if the text ended there. Decode(Encode(x)) == x holds for every byte string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/text/token_counter.h"

namespace ingest::text {

enum class Encoding { kCl100kBase, kO200kBase };

// "cl100k_base" / "o200k_base"; anything else is kInvalidArgument.
Result<Encoding> ParseEncoding(std::string_view name);
std::string_view EncodingName(Encoding encoding);

namespace internal {
class RankTable;
}

// Immutable after construction, so thread-safe: one instance per encoding serves every thread.
class Tokenizer final : public TokenCounter {
 public:
  // Returns the process-wide tokenizer for `encoding`, building it on first use (a few ms; later
  // calls are a load of a pointer). Thread-safe. Fails (kDataLoss) only if the embedded rank
  // data is corrupt, which a correct build cannot produce.
  static Result<const Tokenizer*> Get(Encoding encoding);

  ~Tokenizer() override;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token ids of `text`, never special-token ids. Never fails; see the header comment for
  // invalid UTF-8.
  std::vector<uint32_t> Encode(std::string_view text) const;

  // Same as Encode(text).size(), without materialising the ids.
  size_t Count(std::string_view text) const override;

  // Bytes of `ids` concatenated (special ids give their string form). The result is not
  // necessarily valid UTF-8 when `ids` is a slice of a longer encoding. An id outside the
  // vocabulary is kInvalidArgument.
  Result<std::string> Decode(std::span<const uint32_t> ids) const;

  Encoding encoding() const { return encoding_; }
  // Number of ordinary (mergeable) tokens; special tokens have ids at or above it.
  size_t num_ranks() const;
  // Heap bytes held by the loaded rank tables (for docs/performance.md and metrics).
  size_t MemoryBytes() const;

  // A special token's string form and id, e.g. {"<|endoftext|>", 100257}.
  struct SpecialToken {
    std::string_view text;
    uint32_t id;
  };
  std::span<const SpecialToken> special_tokens() const { return specials_; }

 private:
  Tokenizer(Encoding encoding, std::unique_ptr<internal::RankTable> ranks,
            std::span<const SpecialToken> specials);
  static Result<std::unique_ptr<Tokenizer>> Load(Encoding encoding);

  // Appends the tokens of one pre-tokenized piece (ids when `out` is non-null); returns how
  // many tokens the piece has.
  size_t EncodePiece(const uint8_t* piece, size_t size, std::vector<uint32_t>* out) const;

  Encoding encoding_;
  std::unique_ptr<internal::RankTable> ranks_;
  std::span<const SpecialToken> specials_;
};

}  // namespace ingest::text
