// Markdown block structure for the chunker (internal to text/chunker.cc and its tests).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "ingest/store/types.h"

namespace ingest::text::chunker_internal {

enum class BlockKind { kHeading, kParagraph, kList, kTable, kCode };

// One Markdown block: the unit the chunker packs. Blocks never span pages: a paragraph that
// continues on the next page becomes two blocks, so every block has exactly one page.
struct Block {
  BlockKind kind = BlockKind::kParagraph;
  std::string text;  // the block's lines, without surrounding blank lines
  int page = 1;
  std::string heading_path;  // "H1 > H2 > H3" in effect at this block (a heading includes itself)
  int heading_level = 0;     // 1..6 for kHeading, else 0
};

// Splits normalised Markdown pages into blocks, in order. Recognises ATX headings (`#`..`######`),
// fenced code (``` or ~~~; an unclosed fence runs to the end of its page), pipe tables
// (consecutive lines starting with `|`), lists (consecutive non-blank lines starting with a list
// item) and paragraphs (everything else, blank-line separated). Pure; never fails.
// With `markdown` false the text is plain: only paragraphs and lists are recognised.
std::vector<Block> ParseMarkdownBlocks(std::span<const store::PageText> pages,
                                       bool markdown = true);

// True if `line` starts a list item ("- x", "* x", "+ x", "12. x", "3) x"), after indentation.
bool IsListItemLine(std::string_view line);

}  // namespace ingest::text::chunker_internal
