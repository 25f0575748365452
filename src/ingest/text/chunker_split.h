// Splitting of blocks too large for one chunk, and overlap tails (internal to text/chunker.cc).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/text/chunker_blocks.h"
#include "ingest/text/token_counter.h"

namespace ingest::text::chunker_internal {

// Splits `block` into pieces of at most `cap` tokens each (counted by `counter` on the piece's
// exact text, and returned with that count), in order, none empty. The coarsest boundary that works
// is used: tables by rows (every piece repeats the header row and its separator), code by lines
// (every piece is re-fenced), lists by items, prose by sentences; anything still too large by words
// and finally by a token-exact cut at a UTF-8 code point boundary. Text is only dropped where it is
// whitespace at a cut. The bound holds whenever one code point fits in `cap` tokens (any byte-level
// BPE with cap >= 4); a counter that charges more for a single code point gets that code point
// alone.
struct Piece {
  std::string text;
  size_t tokens;  // counter.Count(text), exact
};
std::vector<Piece> SplitOversizedBlock(const Block& block, size_t cap, const TokenCounter& counter);

// The longest suffix of `text` that starts at a word (after whitespace, or at the start) and has
// at most `max_tokens` tokens; "" if even the last word is too long. Looks only at the last
// ~32 bytes per token of `text`, so the cost does not grow with the chunk.
std::string_view TailByTokens(std::string_view text, size_t max_tokens,
                              const TokenCounter& counter);

}  // namespace ingest::text::chunker_internal
