#include "ingest/text/chunker_split.h"

#include <algorithm>
#include <utility>

namespace ingest::text::chunker_internal {
namespace {

// Upper bound on bytes per token we search over. Real tokenizers average ~4 bytes per token;
// a prefix longer than this per token is accepted without searching for the exact maximum.
constexpr size_t kMaxBytesPerToken = 32;

enum class Level { kLines, kItems, kSentences, kWords, kExact };

Level Next(Level level) {
  switch (level) {
    case Level::kLines:  // a table row or a code line: no sentences in there
    case Level::kSentences:
      return Level::kWords;
    case Level::kItems:
      return Level::kSentences;
    case Level::kWords:
    case Level::kExact:
      return Level::kExact;
  }
  return Level::kExact;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// [begin, end) byte ranges that tile the text.
struct Span {
  size_t begin;
  size_t end;
};

size_t LeadingIndent(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && (line[n] == ' ' || line[n] == '\t')) ++n;
  return n;
}

// Segments `s` into units that tile it; each unit keeps its trailing separator so that a run of
// units is a contiguous substring of the original.
std::vector<Span> Segment(std::string_view s, Level level) {
  std::vector<Span> units;
  size_t start = 0;
  auto cut = [&](size_t at) {
    if (at > start && at < s.size()) {
      units.push_back({start, at});
      start = at;
    }
  };
  switch (level) {
    case Level::kLines:
    case Level::kItems: {
      const size_t base = LeadingIndent(s);
      for (size_t pos = s.find('\n'); pos != std::string_view::npos; pos = s.find('\n', pos + 1)) {
        const size_t next = pos + 1;
        if (level == Level::kLines) {
          cut(next);
          continue;
        }
        size_t eol = s.find('\n', next);
        std::string_view line = s.substr(next, eol == std::string_view::npos ? eol : eol - next);
        if (LeadingIndent(line) <= base && IsListItemLine(line)) cut(next);
      }
      break;
    }
    case Level::kSentences:
      for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        size_t after = 0;
        if (c == '.' || c == '!' || c == '?') {
          after = i + 1;
          if (after >= s.size() || !IsSpace(s[after])) continue;
        } else if (static_cast<unsigned char>(c) == 0xE3 && i + 2 < s.size() &&
                   static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   static_cast<unsigned char>(s[i + 2]) == 0x82) {
          after = i + 3;  // U+3002 ideographic full stop
        } else if (static_cast<unsigned char>(c) == 0xEF && i + 2 < s.size() &&
                   static_cast<unsigned char>(s[i + 1]) == 0xBC &&
                   (static_cast<unsigned char>(s[i + 2]) == 0x81 ||
                    static_cast<unsigned char>(s[i + 2]) == 0x9F)) {
          after = i + 3;  // U+FF01 fullwidth exclamation mark, U+FF1F fullwidth question mark
        } else {
          continue;
        }
        while (after < s.size() && IsSpace(s[after])) ++after;
        cut(after);
        i = after - 1;
      }
      break;
    case Level::kWords:
      for (size_t i = 1; i < s.size(); ++i) {
        if (IsSpace(s[i - 1]) && !IsSpace(s[i])) cut(i);
      }
      break;
    case Level::kExact:
      break;
  }
  if (start < s.size()) units.push_back({start, s.size()});
  return units;
}

// Emits pieces of one block, each wrapped in `prefix` and `suffix` (table header, code fences).
class PieceSplitter {
 public:
  PieceSplitter(const TokenCounter& counter, size_t cap, std::string prefix, std::string suffix,
                std::vector<Piece>* out)
      : counter_(counter), cap_(cap), out_(out) {
    const size_t overhead = counter.Count(prefix) + counter.Count(suffix);
    // A wrapper that eats half the budget (a huge table header) would make pieces mostly
    // header; split plainly instead.
    if (overhead * 2 <= cap) {
      prefix_ = std::move(prefix);
      suffix_ = std::move(suffix);
      budget_ = cap - overhead;
    } else {
      budget_ = cap;
    }
  }

  void Split(std::string_view text, Level level) {
    if (level == Level::kExact) return CutExact(text);
    const std::vector<Span> units = Segment(text, level);
    if (units.size() <= 1) return Split(text, Next(level));
    std::vector<size_t> tokens(units.size());
    for (size_t k = 0; k < units.size(); ++k) {
      tokens[k] = counter_.Count(text.substr(units[k].begin, units[k].end - units[k].begin));
    }
    size_t i = 0;
    while (i < units.size()) {
      if (tokens[i] > budget_) {
        Split(text.substr(units[i].begin, units[i].end - units[i].begin), Next(level));
        ++i;
        continue;
      }
      size_t j = i;
      size_t sum = 0;
      while (j < units.size() && sum + tokens[j] <= budget_) sum += tokens[j++];
      // Joining can change the count (BPE merges across the seam): verify, back off.
      for (;;) {
        std::string_view body = text.substr(units[i].begin, units[j - 1].end - units[i].begin);
        if (TryEmit(body)) break;
        if (j - i == 1) {
          Split(body, Next(level));
          break;
        }
        --j;
      }
      i = j;
    }
  }

 private:
  std::string Wrap(std::string_view body) const {
    std::string piece;
    piece.reserve(prefix_.size() + body.size() + suffix_.size());
    piece.append(prefix_).append(body).append(suffix_);
    return piece;
  }

  // Emits the trimmed, wrapped body if it fits. Whitespace-only bodies fit trivially.
  bool TryEmit(std::string_view body) {
    body = Trim(body);
    if (body.empty()) return true;
    std::string piece = Wrap(body);
    const size_t tokens = counter_.Count(piece);
    if (tokens > cap_) return false;
    out_->push_back({std::move(piece), tokens});
    return true;
  }

  // Emits `text` as it is, whatever its count (see the header on counters that exceed cap).
  void Push(std::string_view text) { out_->push_back({std::string(text), counter_.Count(text)}); }

  bool Fits(std::string_view body) const { return counter_.Count(Wrap(Trim(body))) <= cap_; }

  static size_t AlignDown(std::string_view s, size_t pos) {
    while (pos > 0 && pos < s.size() && IsContinuationByte(s[pos])) --pos;
    return pos;
  }

  static size_t NextBoundary(std::string_view s, size_t pos) {
    ++pos;
    while (pos < s.size() && IsContinuationByte(s[pos])) ++pos;
    return pos;
  }

  // Longest code-point-aligned prefixes that fit, by binary search on the prefix length. Each
  // search is bounded to cap * kMaxBytesPerToken bytes so a huge word-less text costs
  // O(n log n) rather than O(n^2).
  void CutExact(std::string_view s) {
    s = Trim(s);
    while (!s.empty()) {
      const size_t limit = cap_ * kMaxBytesPerToken;
      if (s.size() <= limit && TryEmit(s)) return;
      size_t hi = s.size() <= limit ? s.size() : AlignDown(s, limit);
      size_t lo = 0;
      if (hi > 0 && hi < s.size() && Fits(s.substr(0, hi))) {
        lo = hi;
      } else {
        while (true) {
          size_t mid = AlignDown(s, lo + (hi - lo) / 2);
          if (mid <= lo) mid = NextBoundary(s, lo);
          if (mid >= hi) break;
          if (Fits(s.substr(0, mid))) {
            lo = mid;
          } else {
            hi = mid;
          }
        }
      }
      if (lo == 0) {
        // Not even one code point fits with the wrapper: emit it bare (see the header).
        lo = NextBoundary(s, 0);
        Push(s.substr(0, lo));
      } else if (!TryEmit(s.substr(0, lo))) {
        Push(Trim(s.substr(0, lo)));  // unreachable for sane counters
      }
      s = Trim(s.substr(lo));
    }
  }

  const TokenCounter& counter_;
  const size_t cap_;
  std::vector<Piece>* out_;
  std::string prefix_;
  std::string suffix_;
  size_t budget_ = 0;
};

bool IsTableSeparator(std::string_view line) {
  line = Trim(line);
  if (line.empty()) return false;
  bool dash = false;
  for (char c : line) {
    if (c == '-') {
      dash = true;
    } else if (c != '|' && c != ':' && c != ' ' && c != '\t') {
      return false;
    }
  }
  return dash;
}

}  // namespace

std::vector<Piece> SplitOversizedBlock(const Block& block, size_t cap,
                                       const TokenCounter& counter) {
  std::vector<Piece> out;
  std::string_view text = block.text;
  switch (block.kind) {
    case BlockKind::kTable: {
      // Header = first row, plus the |---| separator row when present.
      size_t header_end = text.find('\n');
      if (header_end != std::string_view::npos) {
        size_t second_end = text.find('\n', header_end + 1);
        std::string_view second = text.substr(header_end + 1, second_end == std::string_view::npos
                                                                  ? std::string_view::npos
                                                                  : second_end - header_end - 1);
        if (IsTableSeparator(second)) header_end = second_end;
      }
      if (header_end == std::string_view::npos) {
        PieceSplitter(counter, cap, "", "", &out).Split(text, Level::kLines);
        break;
      }
      std::string header(text.substr(0, header_end));
      PieceSplitter(counter, cap, header + "\n", "", &out)
          .Split(text.substr(header_end + 1), Level::kLines);
      break;
    }
    case BlockKind::kCode: {
      size_t open_end = text.find('\n');
      size_t close_begin = text.rfind('\n');
      if (open_end == std::string_view::npos || close_begin <= open_end) {
        PieceSplitter(counter, cap, "", "", &out).Split(text, Level::kWords);
        break;
      }
      std::string_view open = text.substr(0, open_end);
      std::string_view last = Trim(text.substr(close_begin + 1));
      // The closing line is a fence only if it is made of the opening fence character.
      const char fence_char = Trim(open).front();
      bool closed = !last.empty() && last.find_first_not_of(fence_char) == std::string_view::npos;
      std::string close = closed ? std::string(last) : std::string(3, fence_char);
      std::string_view body = closed ? text.substr(open_end + 1, close_begin - open_end - 1)
                                     : text.substr(open_end + 1);
      PieceSplitter(counter, cap, std::string(open) + "\n", "\n" + close, &out)
          .Split(body, Level::kLines);
      break;
    }
    case BlockKind::kList:
      PieceSplitter(counter, cap, "", "", &out).Split(text, Level::kItems);
      break;
    case BlockKind::kHeading:
    case BlockKind::kParagraph:
      PieceSplitter(counter, cap, "", "", &out).Split(text, Level::kSentences);
      break;
  }
  return out;
}

std::string_view TailByTokens(std::string_view text, size_t max_tokens,
                              const TokenCounter& counter) {
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  if (max_tokens == 0 || text.empty()) return {};
  const size_t window = max_tokens * kMaxBytesPerToken + 64;
  const size_t from = text.size() > window ? text.size() - window : 0;
  std::vector<size_t> starts;  // word starts, ascending
  if (from == 0) starts.push_back(0);
  for (size_t i = std::max<size_t>(from, 1); i < text.size(); ++i) {
    if (IsSpace(text[i - 1]) && !IsSpace(text[i])) starts.push_back(i);
  }
  // Smallest start whose suffix fits; suffix counts shrink as the start moves right.
  size_t lo = 0, hi = starts.size();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (counter.Count(text.substr(starts[mid])) <= max_tokens) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  // BPE counts are not strictly monotone in the suffix length: verify, move right if needed.
  while (lo < starts.size() && counter.Count(text.substr(starts[lo])) > max_tokens) ++lo;
  if (lo == starts.size()) return {};
  return text.substr(starts[lo]);
}

}  // namespace ingest::text::chunker_internal
