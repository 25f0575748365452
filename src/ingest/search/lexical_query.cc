#include "ingest/search/lexical_query.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace ingest::search {
namespace {

// Common English function words, sorted. In most chunks, they weigh almost nothing in a text
// score but make a query match nearly every chunk, which the backend must then all score: a
// query "what is the refund policy" would rank the whole store for "the".
constexpr std::array<std::string_view, 101> kStopWords = {
    "a",     "about",    "after",      "all",       "also",      "am",     "an",     "and",
    "any",   "are",      "as",         "at",        "be",        "been",   "being",  "both",
    "but",   "by",       "can",        "could",     "did",       "do",     "does",   "doing",
    "each",  "for",      "from",       "had",       "has",       "have",   "having", "he",
    "her",   "here",     "hers",       "him",       "his",       "how",    "i",      "if",
    "in",    "into",     "is",         "it",        "its",       "itself", "just",   "me",
    "more",  "most",     "my",         "of",        "on",        "or",     "other",  "our",
    "ours",  "she",      "should",     "so",        "some",      "such",   "than",   "that",
    "the",   "their",    "theirs",     "them",      "then",      "there",  "these",  "they",
    "this",  "those",    "through",    "to",        "too",       "until",  "up",     "very",
    "was",   "we",       "were",       "what",      "when",      "where",  "which",  "while",
    "who",   "whom",     "why",        "will",      "with",      "would",  "you",    "your",
    "yours", "yourself", "yourselves", "ourselves", "themselves"};

bool IsStopWord(std::string_view word) {
  return std::find(kStopWords.begin(), kStopWords.end(), word) != kStopWords.end();
}

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
  std::vector<std::string> words, stop_words;
  size_t i = 0;
  while (i < text.size() && words.size() < kMaxLexicalTerms) {
    while (i < text.size() && !IsWordByte(static_cast<unsigned char>(text[i]))) ++i;
    std::string word;
    while (i < text.size() && IsWordByte(static_cast<unsigned char>(text[i]))) {
      char c = text[i++];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      word += c;
    }
    CutAtBoundary(&word, kMaxLexicalTermBytes);
    if (word.empty()) continue;
    std::vector<std::string>& into = IsStopWord(word) ? stop_words : words;
    if (std::find(into.begin(), into.end(), word) == into.end()) into.push_back(std::move(word));
  }
  if (words.empty()) {
    stop_words.resize(std::min(stop_words.size(), kMaxLexicalTerms));
    return stop_words;
  }
  return words;
}

}  // namespace ingest::search
