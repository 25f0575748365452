// Small UTF-8 helpers shared by the normaliser, the parsers and the chunker.
//
// Decoding follows Unicode's well-formedness table (Unicode 15, Table 3-7): overlongs, surrogates
// (U+D800..U+DFFF) and code points above U+10FFFF are ill-formed. An ill-formed sequence is
// consumed as its "maximal subpart" (the longest prefix that could start a well-formed sequence,
// at least one byte), the practice Unicode recommends and that browsers and ICU follow, so one
// bad sequence becomes exactly one U+FFFD. All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ingest::text {

inline constexpr char32_t kReplacementChar = 0xFFFD;

struct Utf8Decoded {
  char32_t code_point = kReplacementChar;  // kReplacementChar when !valid
  size_t length = 1;                       // bytes consumed; >= 1 whenever pos < size
  bool valid = false;
};

// Decodes the code point starting at s[pos]. Requires pos < s.size().
Utf8Decoded DecodeUtf8(std::string_view s, size_t pos);

// True when `s` is entirely well-formed UTF-8 (NUL bytes are well-formed).
bool IsValidUtf8(std::string_view s);

// Appends the UTF-8 encoding of `cp`; surrogates and values above U+10FFFF append U+FFFD.
void AppendUtf8(char32_t cp, std::string* out);

// Copies `s`, replacing every maximal ill-formed subpart with U+FFFD. `replaced` (optional)
// receives the number of replacements.
std::string ReplaceInvalidUtf8(std::string_view s, size_t* replaced = nullptr);

// The largest index <= pos that does not split a multi-byte sequence (it is not a continuation
// byte), for cutting text at a byte budget. Returns s.size() when pos >= s.size().
size_t Utf8BoundaryAtOrBefore(std::string_view s, size_t pos);

}  // namespace ingest::text
