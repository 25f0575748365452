#include "ingest/search/lexical_query.h"

#include <algorithm>

namespace ingest::search {
namespace {

bool IsWordByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
void CutAtBoundary(std::string* s, size_t max) {
  if (s->size() <= max) return;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>((*s)[end]) & 0xC0) == 0x80) --end;
  s->resize(end);
}

}  // namespace

std::vector<std::string> LexicalTerms(std::string_view text) {
  std::vector<std::string> terms;
  size_t i = 0;
  while (i < text.size() && terms.size() < kMaxLexicalTerms) {
    while (i < text.size() && !IsWordByte(static_cast<unsigned char>(text[i]))) ++i;
    std::string word;
    while (i < text.size() && IsWordByte(static_cast<unsigned char>(text[i]))) {
      char c = text[i++];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      word += c;
    }
    CutAtBoundary(&word, kMaxLexicalTermBytes);
    if (word.empty()) continue;
    if (std::find(terms.begin(), terms.end(), word) == terms.end()) {
      terms.push_back(std::move(word));
    }
  }
  return terms;
}

}  // namespace ingest::search
