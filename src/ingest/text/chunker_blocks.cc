#include "ingest/text/chunker_blocks.h"

#include <array>
#include <optional>
#include <string_view>

namespace ingest::text::chunker_internal {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (IsSpace(s.back()) || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

bool IsBlank(std::string_view line) { return TrimLeft(line).empty(); }

// Leading spaces, or nullopt when the line is indented by a tab or 4+ spaces (CommonMark treats
// those as indented code, which cannot open a heading or a fence).
std::optional<size_t> SmallIndent(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && line[n] == ' ') ++n;
  if (n > 3 || (n < line.size() && line[n] == '\t')) return std::nullopt;
  return n;
}

// 1..6 for an ATX heading line, else 0.
int HeadingLevel(std::string_view line) {
  auto indent = SmallIndent(line);
  if (!indent) return 0;
  size_t i = *indent;
  int level = 0;
  while (i < line.size() && line[i] == '#') {
    ++level;
    ++i;
  }
  if (level < 1 || level > 6) return 0;
  if (i < line.size() && line[i] != ' ' && line[i] != '\t') return 0;
  return level;
}

// The heading's text without the opening and optional closing `#` sequences.
std::string HeadingText(std::string_view line, int level) {
  std::string_view s = TrimLeft(line);
  s.remove_prefix(static_cast<size_t>(level));
  s = TrimRight(TrimLeft(s));
  size_t hashes = 0;
  while (hashes < s.size() && s[s.size() - 1 - hashes] == '#') ++hashes;
  if (hashes == s.size()) return {};
  if (hashes > 0 && IsSpace(s[s.size() - 1 - hashes]))
    s = TrimRight(s.substr(0, s.size() - hashes));
  return std::string(s);
}

struct Fence {
  char ch;
  size_t length;
};

std::optional<Fence> FenceOpen(std::string_view line) {
  auto indent = SmallIndent(line);
  if (!indent) return std::nullopt;
  std::string_view s = line.substr(*indent);
  if (s.empty() || (s[0] != '`' && s[0] != '~')) return std::nullopt;
  size_t n = 0;
  while (n < s.size() && s[n] == s[0]) ++n;
  if (n < 3) return std::nullopt;
  // A backtick fence's info string may not contain backticks (that is inline code).
  if (s[0] == '`' && s.substr(n).find('`') != std::string_view::npos) return std::nullopt;
  return Fence{s[0], n};
}

bool FenceCloses(std::string_view line, const Fence& open) {
  auto indent = SmallIndent(line);
  if (!indent) return false;
  std::string_view s = line.substr(*indent);
  size_t n = 0;
  while (n < s.size() && s[n] == open.ch) ++n;
  return n >= open.length && TrimLeft(s.substr(n)).empty();
}

bool IsTableLine(std::string_view line) {
  std::string_view s = TrimLeft(line);
  return !s.empty() && s[0] == '|';
}

// Lines that end a paragraph or a list without a blank line.
bool StartsOtherBlock(std::string_view line, bool markdown) {
  return markdown && (HeadingLevel(line) > 0 || FenceOpen(line).has_value() || IsTableLine(line));
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = nl + 1;
  }
  return lines;
}

std::string JoinLines(const std::vector<std::string_view>& lines, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) {
    if (i > begin) out += '\n';
    out += lines[i];
  }
  return std::string(TrimRight(out));
}

std::string JoinPath(const std::array<std::string, 6>& levels) {
  std::string path;
  for (const std::string& h : levels) {
    if (h.empty()) continue;
    if (!path.empty()) path += " > ";
    path += h;
  }
  return path;
}

}  // namespace

bool IsListItemLine(std::string_view line) {
  std::string_view s = TrimLeft(line);
  if (s.size() >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && (s[1] == ' ' || s[1] == '\t'))
    return true;
  size_t digits = 0;
  while (digits < s.size() && digits < 10 && s[digits] >= '0' && s[digits] <= '9') ++digits;
  if (digits == 0 || digits > 9 || digits >= s.size()) return false;
  if (s[digits] != '.' && s[digits] != ')') return false;
  return digits + 1 == s.size() || s[digits + 1] == ' ' || s[digits + 1] == '\t';
}

std::vector<Block> ParseMarkdownBlocks(std::span<const store::PageText> pages, bool markdown) {
  std::vector<Block> out;
  std::array<std::string, 6> levels;
  std::string path;
  auto emit = [&](BlockKind kind, std::string text, int page, int level = 0) {
    if (TrimLeft(TrimRight(text)).empty()) return;
    out.push_back(Block{kind, std::move(text), page, path, level});
  };
  for (const store::PageText& page : pages) {
    const std::vector<std::string_view> lines = SplitLines(page.text);
    const size_t n = lines.size();
    size_t i = 0;
    while (i < n) {
      const std::string_view line = lines[i];
      if (IsBlank(line)) {
        ++i;
        continue;
      }
      if (int level = markdown ? HeadingLevel(line) : 0; level > 0) {
        levels[static_cast<size_t>(level - 1)] = HeadingText(line, level);
        for (size_t k = static_cast<size_t>(level); k < levels.size(); ++k) levels[k].clear();
        path = JoinPath(levels);
        emit(BlockKind::kHeading, std::string(TrimRight(TrimLeft(line))), page.page, level);
        ++i;
        continue;
      }
      size_t j = i + 1;
      if (auto fence = markdown ? FenceOpen(line) : std::nullopt) {
        while (j < n && !FenceCloses(lines[j], *fence)) ++j;
        if (j < n) ++j;  // include the closing fence
        emit(BlockKind::kCode, JoinLines(lines, i, j), page.page);
      } else if (markdown && IsTableLine(line)) {
        while (j < n && IsTableLine(lines[j])) ++j;
        emit(BlockKind::kTable, JoinLines(lines, i, j), page.page);
      } else if (IsListItemLine(line)) {
        while (j < n && !IsBlank(lines[j]) && !StartsOtherBlock(lines[j], markdown)) ++j;
        emit(BlockKind::kList, JoinLines(lines, i, j), page.page);
      } else {
        while (j < n && !IsBlank(lines[j]) && !StartsOtherBlock(lines[j], markdown) &&
               !IsListItemLine(lines[j]))
          ++j;
        emit(BlockKind::kParagraph, JoinLines(lines, i, j), page.page);
      }
      i = j;
    }
  }
  return out;
}

}  // namespace ingest::text::chunker_internal
