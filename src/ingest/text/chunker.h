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
  size_t max_tokens = 512;     // hard upper bound on every chunk's token count
  size_t overlap_tokens = 0;   // tokens of the previous chunk repeated at the start of the next
};

struct TextChunk {
  int ordinal = 0;
  std::string text;
  std::string heading_path;  // "Title > Section"; "" before the first heading
  int page_start = 1;
  int page_end = 1;
  size_t token_count = 0;
};

// Splits `pages` (normalised Markdown, ascending pages) into chunks. Pure and deterministic.
std::vector<TextChunk> ChunkMarkdown(std::span<const store::PageText> pages,
                                     const ChunkerOptions& options, const TokenCounter& counter);

}  // namespace ingest::text
