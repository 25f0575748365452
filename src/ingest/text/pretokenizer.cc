#include "ingest/text/pretokenizer.h"

#include <utf8proc.h>

#include <array>
#include <cstring>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ingest/common/check.h"

namespace ingest::text::internal {
namespace {

// Class bits of a code point. kUpper and kLower are o200k's two letter classes
// ([\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and [\p{Ll}\p{Lm}\p{Lo}\p{M}]); they overlap on Lm, Lo, M.
enum : uint8_t {
  kLetter = 1,    // \p{L}
  kNumber = 2,    // \p{N}
  kSpace = 4,     // \s (Unicode White_Space)
  kUpper = 8,     // \p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}
  kLower = 16,    // \p{Ll}\p{Lm}\p{Lo}\p{M}
  kNewline = 32,  // \r \n
  kInvalid = 64,  // a byte that is not part of well-formed UTF-8
  kEnd = 128,     // past the end of the text
};

// Matches what the regexes treat as "anything else": [^\s\p{L}\p{N}].
constexpr uint8_t kNotPunct = kLetter | kNumber | kSpace | kInvalid | kEnd;
// Matches the optional letter prefix [^\r\n\p{L}\p{N}].
constexpr uint8_t kNotPrefix = kNewline | kLetter | kNumber | kInvalid | kEnd;

bool IsWhiteSpace(uint32_t cp) {
  // The Unicode White_Space property, which is what Rust's regex (and so tiktoken) means by \s.
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

uint8_t ComputeClass(uint32_t cp) {
  uint8_t cls = 0;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LT:
      cls = kLetter | kUpper;
      break;
    case UTF8PROC_CATEGORY_LL:
      cls = kLetter | kLower;
      break;
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      cls = kLetter | kUpper | kLower;
      break;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      cls = kUpper | kLower;
      break;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      cls = kNumber;
      break;
    default:
      break;
  }
  if (IsWhiteSpace(cp)) cls |= kSpace;
  if (cp == '\r' || cp == '\n') cls |= kNewline;
  return cls;
}

// Two-level table over all of Unicode: 256-code-point blocks, identical blocks shared (most of
// the 4352 blocks are unassigned or uniform), under 200 KB in all.
class ClassTable {
 public:
  ClassTable() {
    std::array<uint8_t, 256> block;
    std::unordered_map<std::string_view, uint16_t> seen;  // block contents -> index
    blocks_.reserve(256 * 1024);  // Unicode 15 needs about 700 distinct blocks; never moved
    for (uint32_t b = 0; b < kBlocks; ++b) {
      // Planes 4-13 are unassigned and 15-16 private use (and noncharacters): class 0 for
      // every code point, a fact tokenizer_test.cc checks. Skipping them cuts the build (one
      // utf8proc lookup per code point) from 1.1 million lookups to 330 thousand.
      const uint32_t plane = b >> 8;
      const bool constant_plane = (plane >= 4 && plane <= 13) || plane >= 15;
      for (uint32_t i = 0; i < 256; ++i) block[i] = constant_plane ? 0 : ComputeClass((b << 8) | i);
      std::string_view key(reinterpret_cast<const char*>(block.data()), block.size());
      auto it = seen.find(key);
      if (it == seen.end()) {
        INGEST_CHECK(blocks_.size() + 256 <= blocks_.capacity());
        uint16_t index = static_cast<uint16_t>(blocks_.size() / 256);
        blocks_.insert(blocks_.end(), block.begin(), block.end());
        it = seen.emplace(
                     std::string_view(reinterpret_cast<const char*>(&blocks_[index * 256]), 256),
                     index)
                 .first;
      }
      index_[b] = it->second;
    }
    blocks_.shrink_to_fit();
  }
  uint8_t operator()(uint32_t cp) const { return blocks_[(index_[cp >> 8] << 8) | (cp & 0xFF)]; }

 private:
  static constexpr uint32_t kBlocks = 0x110000 >> 8;
  std::array<uint16_t, kBlocks> index_;
  std::vector<uint8_t> blocks_;
};

const ClassTable& Classes() {
  static const ClassTable* table = new ClassTable();  // never destroyed: used until exit
  return *table;
}

struct Ascii {
  std::array<uint8_t, 128> cls;
  Ascii() {
    for (uint32_t c = 0; c < 128; ++c) cls[c] = ComputeClass(c);
  }
};
const Ascii kAscii;

// One decoded code point: its class, its value and its length in bytes (0 at the end).
struct CodePoint {
  uint8_t cls;
  uint8_t len;
  uint32_t cp;
};

// Scans one text. Members are plain so that the compiler keeps them in registers.
class Scanner {
 public:
  Scanner(std::string_view text, const ClassTable& table)
      : s_(reinterpret_cast<const uint8_t*>(text.data())), n_(text.size()), table_(table) {}

  // The class and length of the code point at `pos`. ASCII, the common case, stays inline.
  [[gnu::always_inline]] CodePoint At(size_t pos) const {
    if (pos >= n_) return {kEnd, 0, 0};
    uint8_t b0 = s_[pos];
    if (b0 < 0x80) return {kAscii.cls[b0], 1, b0};
    return AtMultiByte(pos);
  }

  // Strict UTF-8 decoding (the same set of sequences Rust's str accepts).
  [[gnu::noinline]] CodePoint AtMultiByte(size_t pos) const {
    uint8_t b0 = s_[pos];
    size_t left = n_ - pos;
    uint32_t cp;
    uint8_t len;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      if (left < 2 || (s_[pos + 1] & 0xC0) != 0x80) return Invalid();
      cp = ((b0 & 0x1Fu) << 6) | (s_[pos + 1] & 0x3Fu);
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      if (left < 3 || (s_[pos + 1] & 0xC0) != 0x80 || (s_[pos + 2] & 0xC0) != 0x80) {
        return Invalid();
      }
      cp = ((b0 & 0x0Fu) << 12) | ((s_[pos + 1] & 0x3Fu) << 6) | (s_[pos + 2] & 0x3Fu);
      if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return Invalid();
      len = 3;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      if (left < 4 || (s_[pos + 1] & 0xC0) != 0x80 || (s_[pos + 2] & 0xC0) != 0x80 ||
          (s_[pos + 3] & 0xC0) != 0x80) {
        return Invalid();
      }
      cp = ((b0 & 0x07u) << 18) | ((s_[pos + 1] & 0x3Fu) << 12) | ((s_[pos + 2] & 0x3Fu) << 6) |
           (s_[pos + 3] & 0x3Fu);
      if (cp < 0x10000 || cp > 0x10FFFF) return Invalid();
      len = 4;
    } else {
      return Invalid();
    }
    return {table_(cp), len, cp};
  }

  // End of the run of code points whose class has any bit of `bits`, starting at `pos`.
  size_t SkipWhile(size_t pos, uint8_t bits) const {
    for (;;) {
      CodePoint c = At(pos);
      if (!(c.cls & bits)) return pos;
      pos += c.len;
    }
  }
  size_t SkipWhileNot(size_t pos, uint8_t bits) const {
    for (;;) {
      CodePoint c = At(pos);
      if (c.cls & bits) return pos;
      pos += c.len;
    }
  }

  // `'(?i:s|t|re|ve|m|ll|d)` at pos: returns the end of the contraction, or pos if none.
  // Case-insensitive matching in Rust regex uses simple case folding, under which 's' also
  // matches U+017F LATIN SMALL LETTER LONG S; no other listed letter has such a fold.
  size_t Contraction(size_t pos) const {
    if (pos >= n_ || s_[pos] != '\'') return pos;
    CodePoint c = At(pos + 1);
    switch (c.cp | (c.cp < 0x80 ? 0x20 : 0)) {  // ASCII lower-case
      case 's':
      case 0x17F:
      case 't':
      case 'm':
      case 'd':
        return pos + 1 + c.len;
      case 'r':
      case 'v':
        return pos + 2 < n_ && (s_[pos + 2] | 0x20) == 'e' ? pos + 3 : pos;
      case 'l':
        return pos + 2 < n_ && (s_[pos + 2] | 0x20) == 'l' ? pos + 3 : pos;
      default:
        return pos;
    }
  }

  // `' '?[^\s\p{L}\p{N}]+` followed by any of `trailing` (a set of ASCII bytes); 0 if no match.
  size_t Punctuation(size_t pos, bool slash_trails) const {
    size_t start = s_[pos] == ' ' ? pos + 1 : pos;
    if (At(start).cls & kNotPunct) return 0;
    size_t end = SkipWhileNot(start, kNotPunct);
    while (end < n_ && (s_[end] == '\r' || s_[end] == '\n' || (slash_trails && s_[end] == '/'))) {
      ++end;
    }
    return end;
  }

  // The three whitespace alternatives, `\s*[\r\n]+ | \s+(?!\S) | \s+`, at a whitespace pos.
  size_t Whitespace(size_t pos) const {
    size_t end = pos;
    size_t last_start = pos;          // start of the run's last code point
    size_t after_newline = SIZE_MAX;  // end of the run's last \r or \n
    CodePoint c;
    for (;;) {
      c = At(end);
      if (!(c.cls & kSpace)) break;
      last_start = end;
      end += c.len;
      if (c.cls & kNewline) after_newline = end;
    }
    // \s*[\r\n]+: the greedy \s* backs off to the last newline of the run; [\r\n]+ takes it.
    if (after_newline != SIZE_MAX) return after_newline;
    // \s+(?!\S): the whole run at the end of the text (or before an invalid byte, which acts as
    // the end); otherwise all but the last code point, which then prefixes the next piece.
    if (c.cls & (kEnd | kInvalid)) return end;
    if (last_start > pos) return last_start;
    // \s+: a single whitespace code point before non-whitespace.
    return end;
  }

  size_t Numbers(size_t pos) const {
    for (int i = 0; i < 3; ++i) {
      CodePoint c = At(pos);
      if (!(c.cls & kNumber)) break;
      pos += c.len;
    }
    return pos;
  }

  size_t NextCl100k(size_t pos) const {
    CodePoint c = At(pos);
    if (c.cls & kInvalid) return pos + 1;
    size_t end = Contraction(pos);
    if (end != pos) return end;
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!(c.cls & kNotPrefix)) {
      if (At(pos + c.len).cls & kLetter) return SkipWhile(pos + c.len, kLetter);
    } else if (c.cls & kLetter) {
      return SkipWhile(pos, kLetter);
    }
    if (c.cls & kNumber) return Numbers(pos);
    if ((end = Punctuation(pos, false)) != 0) return end;
    return Whitespace(pos);
  }

  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+ from `start`; SIZE_MAX if none.
  size_t UpperThenLower(size_t start) const {
    size_t pos = start;
    size_t after_lower = SIZE_MAX;  // end of the last kLower code point inside the kUpper run
    CodePoint c;
    for (;;) {
      c = At(pos);
      if (!(c.cls & kUpper)) break;
      pos += c.len;
      if (c.cls & kLower) after_lower = pos;
    }
    // The greedy run is followed by a lower-case letter: the lower part continues from there.
    if (c.cls & kLower) return SkipWhile(pos, kLower);
    // Otherwise the regex backtracks into the run, giving back code points until the last one
    // that is also in the lower class; the match ends right after it.
    return after_lower;
  }

  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]* from `start`; SIZE_MAX if none.
  size_t UpperThenOptionalLower(size_t start) const {
    if (!(At(start).cls & kUpper)) return SIZE_MAX;
    return SkipWhile(SkipWhile(start, kUpper), kLower);
  }

  size_t NextO200k(size_t pos) const {
    CodePoint c = At(pos);
    if (c.cls & kInvalid) return pos + 1;
    // The optional prefix is tried first; marks are both prefix and letter-class characters,
    // so each alternative is retried without the prefix, in the regex's order.
    const bool prefix = !(c.cls & kNotPrefix);
    size_t end = SIZE_MAX;
    if (prefix) end = UpperThenLower(pos + c.len);
    if (end == SIZE_MAX) end = UpperThenLower(pos);
    if (end == SIZE_MAX && prefix) end = UpperThenOptionalLower(pos + c.len);
    if (end == SIZE_MAX) end = UpperThenOptionalLower(pos);
    if (end != SIZE_MAX) return Contraction(end);
    if (c.cls & kNumber) return Numbers(pos);
    if ((end = Punctuation(pos, true)) != 0) return end;
    return Whitespace(pos);
  }

 private:
  static CodePoint Invalid() { return {kInvalid, 1, 0xFFFFFFFF}; }

  const uint8_t* s_;
  size_t n_;
  const ClassTable& table_;
};

}  // namespace

size_t NextPieceEnd(PieceRules rules, std::string_view text, size_t pos) {
  Scanner scanner(text, Classes());
  return rules == PieceRules::kCl100k ? scanner.NextCl100k(pos) : scanner.NextO200k(pos);
}

void WarmUpPretokenizer() { Classes(); }

}  // namespace ingest::text::internal
