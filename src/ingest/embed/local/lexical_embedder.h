// A free, offline, deterministic embedder built from hashed lexical features (DESIGN §4,
// embedders: `local`). It captures word and sub-word overlap, not meaning: "car" and "automobile"
// are unrelated to it. It is labelled as lexical everywhere it is shown.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/embed/embedder.h"

namespace ingest::embed {

struct LexicalOptions {
  int dimensions = 384;  // 1..65536
};

// Features of a text: case-folded (Unicode, via utf8proc) word unigrams and bigrams, and
// character 3-grams of each word with boundary markers. Words are runs of letters, digits and
// marks; each Han, Hiragana or Katakana character is a word of its own (those scripts do not
// separate words with spaces). Each feature is hashed (FNV-1a 64) to a bucket and a sign; a
// feature's weight is 1 + ln(tf) (sublinear), character 3-grams count half. The vector is
// L2-normalised.
//
// Thread-safe: immutable after construction.
class LexicalEmbedder final : public Embedder {
 public:
  // Any options are accepted; with dimensions outside 1..65536 every Embed call fails with
  // kInvalidArgument (reason "invalid_config"). Create reports that up front instead.
  explicit LexicalEmbedder(LexicalOptions options = {});
  // kInvalidArgument (reason "invalid_config") when dimensions are out of range.
  static Result<std::unique_ptr<LexicalEmbedder>> Create(LexicalOptions options);

  std::string_view Provider() const override { return "local"; }
  std::string Describe() const override;
  // {model "lexical-v1", dimensions}.
  const store::VectorSpace& Space() const override { return space_; }
  // One unit vector per text. Text without word characters (e.g. "}" or "-->") uses its
  // whitespace-separated runs as words. Empty or whitespace-only text fails the whole call with
  // kInvalidArgument, reason "empty_text"; no placeholder is ever returned.
  // usage.tokens is the number of words (as defined above) over all texts; usage.requests is 0.
  Result<EmbedOutput> Embed(std::span<const std::string> texts) const override;

  // One text's vector; `words` receives its word count.
  Result<std::vector<float>> EmbedText(std::string_view text, int64_t* words) const;

 private:
  store::VectorSpace space_;
};

}  // namespace ingest::embed
