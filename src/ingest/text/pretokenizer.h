// Pre-tokenization: splits text into the pieces that BPE then encodes independently. The rules
// are tiktoken's regular expressions for each encoding (tiktoken_ext/openai_public.py), run by
// tiktoken with Rust's fancy-regex; they are implemented here as a hand-written scanner over
// code points because that is several times faster than a regex engine and the pieces must be
// identical, byte for byte. Unicode classes follow Rust regex: \p{L}, \p{N}, \p{M} from
// utf8proc's general categories and \s as the Unicode White_Space property; the contraction
// suffixes match case-insensitively with simple case folding (so "'ſ" is "'s").
//
// cl100k_base:
//   '(?i:s|t|re|ve|m|ll|d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,3} | ' '?[^\s\p{L}\p{N}]+[\r\n]*
//   | \s*[\r\n]+ | \s+(?!\S) | \s+
// o200k_base:
//   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|...)?
//   | [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|...)?
//   | \p{N}{1,3} | ' '?[^\s\p{L}\p{N}]+[\r\n/]* | \s*[\r\n]+ | \s+(?!\S) | \s+
//
// Invalid UTF-8: each byte that is not part of a well-formed sequence is a piece by itself and
// acts as a boundary, as if the text ended before it and restarted after it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ingest::text::internal {

enum class PieceRules { kCl100k, kO200k };

// Returns the end offset of the piece that starts at `pos` (pos < text.size()). Pieces
// partition the text: call again with the returned offset until it reaches the end.
// Thread-safe; the first call builds a shared Unicode class table (a few milliseconds).
size_t NextPieceEnd(PieceRules rules, std::string_view text, size_t pos);

// Builds the Unicode class table now instead of on first use.
void WarmUpPretokenizer();

}  // namespace ingest::text::internal
