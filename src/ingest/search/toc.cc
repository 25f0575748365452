#include "ingest/search/toc.h"

namespace ingest::search {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Removes a trailing page number (1-5 digits, or a lower-case roman numeral) and returns true.
bool StripPageNumber(std::string_view* s) {
  std::string_view t = TrimRight(*s);
  size_t n = 0;
  while (n < t.size() && IsDigit(t[t.size() - 1 - n])) ++n;
  if (n == 0) {
    while (n < t.size() &&
           std::string_view("ivxlc").find(t[t.size() - 1 - n]) != std::string_view::npos) {
      ++n;
    }
    if (n == 0 || n > 6 ||
        (n < t.size() && t[t.size() - 1 - n] != ' ' && t[t.size() - 1 - n] != '.')) {
      return false;
    }
  } else if (n > 5) {
    return false;
  }
  *s = t.substr(0, t.size() - n);
  return true;
}

// "Vectors . . . . . . 7", "Vectors........7", "Vectors … 7".
bool IsDotLeaderEntry(std::string_view line) {
  if (!StripPageNumber(&line)) return false;
  line = TrimRight(line);
  int dots = 0;
  while (!line.empty()) {
    const char c = line.back();
    if (c == '.') {
      ++dots;
    } else if (c != ' ' && c != '\t') {
      break;
    }
    line.remove_suffix(1);
  }
  if (dots < 3) {
    // U+2026 HORIZONTAL ELLIPSIS (E2 80 A6), as some PDF extractors write leaders.
    int ellipses = 0;
    while (line.size() >= 3 && line.substr(line.size() - 3) == "\xE2\x80\xA6") {
      ++ellipses;
      line.remove_suffix(3);
      line = TrimRight(line);
    }
    dots += 3 * ellipses;
  }
  return dots >= 3 && !line.empty();
}

// "lm, 54, 57, 62" and "vectors 12, 14": at least two comma-separated page numbers at the end.
bool IsIndexEntry(std::string_view line) {
  line = TrimRight(line);
  int numbers = 0;
  for (;;) {
    size_t n = 0;
    while (n < line.size() && IsDigit(line[line.size() - 1 - n])) ++n;
    if (n == 0 || n > 5) break;
    ++numbers;
    line.remove_suffix(n);
    line = TrimRight(line);
    if (line.empty() || line.back() != ',') break;
    line.remove_suffix(1);
    line = TrimRight(line);
  }
  return numbers >= 2 && !line.empty() && !IsDigit(line.back());
}

}  // namespace

bool LooksLikeTableOfContents(std::string_view text) {
  int lines = 0;
  int entries = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = TrimRight(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    ++lines;
    if (IsDotLeaderEntry(line) || IsIndexEntry(line)) ++entries;
  }
  return lines >= 3 && entries * 2 >= lines;
}

}  // namespace ingest::search
