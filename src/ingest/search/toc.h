// Table-of-contents and index pages (DESIGN §1 search quality): a chunk made of lines such as
// "2.3 Vectors and assignment . . . . . . . 7" or "lm, 54, 57, 62" points at text elsewhere; it
// shares that text's words, so it scores close to it for any query about it, and outranks it when
// it packs several matching headings into one chunk. Search ranks such chunks down.
//
// Pure and thread-safe.
#pragma once

#include <string_view>

namespace ingest::search {

// True when most of `text`'s lines (at least 3 of them, at least half) are entries of a table of
// contents or an index: a line ending in a page number preceded by a dot leader (". . ." or
// "...", three dots or more), or a line ending in a run of at least two comma-separated page
// numbers. Headings, prose, tables and numbered lists are not.
bool LooksLikeTableOfContents(std::string_view text);

// How much a table-of-contents chunk's similarity is scaled by (a positive score is halved, so
// the text it points to, about as similar, comes first).
inline constexpr float kTableOfContentsFactor = 0.5f;

}  // namespace ingest::search
