// Query text -> the terms of a lexical (full-text) search.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ingest::search {

// At most this many terms are searched (the first ones); longer terms are cut.
inline constexpr size_t kMaxLexicalTerms = 32;
inline constexpr size_t kMaxLexicalTermBytes = 64;

// The words of `text`, in order of first appearance, each once: maximal runs of ASCII letters
// and digits and of non-ASCII UTF-8 sequences (letters of other scripts), ASCII letters
// lower-cased. Everything else separates words, so query syntax of either backend ("foo, AND(,
// NEAR, *, ^, :, column filters, tsquery operators) never reaches it as syntax: `"foo` is the
// word foo. A term longer than kMaxLexicalTermBytes is cut at a UTF-8 boundary; words beyond
// kMaxLexicalTerms are dropped. Common English function words ("the", "is", "what": a short
// fixed list) are dropped too, unless the text has no other word (a query "what is it" still
// searches). No words (empty text, only punctuation): empty.
std::vector<std::string> LexicalTerms(std::string_view text);

}  // namespace ingest::search
