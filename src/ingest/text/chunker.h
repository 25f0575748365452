// Structure-aware, token-bounded chunking of Markdown (DESIGN §1, chunk stage).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/store/types.h"
#include "ingest/text/token_counter.h"

namespace ingest::text {

// Part of every chunk id: bump when boundaries change for the same input.
inline constexpr std::string_view kChunkerVersion = "markdown@1";

struct ChunkerOptions {
  size_t max_tokens = 512;    // hard upper bound on every chunk's token count
  size_t overlap_tokens = 0;  // tokens of the previous chunk repeated at the start of the next
  // false for plain text (PDF text layers, .txt files): a line such as "# FALSE" in an R manual
  // is a code comment, not a heading, so headings, fences and pipe tables are not recognised;
  // paragraphs and lists still are.
  bool markdown = true;
};

struct TextChunk {
  int ordinal = 0;
  std::string text;
  std::string heading_path;  // "Title > Section"; "" before the first heading
  int page_start = 1;
  int page_end = 1;
  size_t token_count = 0;
};

// Smallest effective max_tokens: below it one code point (up to 4 byte-level tokens) plus a
// heading could not be guaranteed to fit. Smaller values are raised to this.
inline constexpr size_t kMinChunkTokens = 16;

// Splits `pages` (normalised Markdown, ascending pages) into chunks. Pure and deterministic;
// thread-safe (no shared state; `counter` must be thread-safe, as TokenCounter promises).
//
// Contract: every chunk is non-empty, valid UTF-8 when the input is, and has
// token_count == counter.Count(text) <= max_tokens. Ordinals are 0..n-1. Blocks (headings,
// paragraphs, lists, pipe tables, fenced code) are packed whole when they fit; a heading always
// starts a new chunk (consecutive headings share one) and the chunk's heading_path is the
// section's. Within a long section, boundaries are content-defined (a chunk at least half full may
// end after a block whose text hash meets a condition), so an edit changes only nearby chunks.
// Blocks larger than a chunk are split (see chunker_split.h). With overlap_tokens > 0 (clamped
// to max_tokens / 2), a chunk continuing a section starts with the last words of the previous
// chunk's own text, up to overlap_tokens tokens, and the bodies leave room for them.
std::vector<TextChunk> ChunkMarkdown(std::span<const store::PageText> pages,
                                     const ChunkerOptions& options, const TokenCounter& counter);

}  // namespace ingest::text
