#include "ingest/text/rank_table.h"

#include <array>
#include <charconv>

namespace ingest::text::internal {
namespace {

// Base64 decoding table; 0xFF marks bytes outside the alphabet.
constexpr std::array<uint8_t, 256> kBase64 = [] {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = 0xFF;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (uint8_t i = 0; i < 64; ++i) t[static_cast<uint8_t>(alphabet[i])] = i;
  return t;
}();

bool DecodeBase64(std::string_view in, std::string* out) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    uint8_t v = kBase64[static_cast<uint8_t>(ch)];
    if (v == 0xFF) return false;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

Status Duplicate(uint32_t rank) {
  return DataLoss("tokenizer rank data: duplicate token at rank " + std::to_string(rank),
                  "tokenizer_data_corrupt");
}

}  // namespace

Result<RankTable> RankTable::Parse(std::string_view file) {
  RankTable t;
  t.arena_.reserve(file.size() / 2);
  t.offsets_.reserve(file.size() / 12);
  size_t line_no = 0;
  while (!file.empty()) {
    size_t nl = file.find('\n');
    std::string_view line = file.substr(0, nl);
    file.remove_prefix(nl == std::string_view::npos ? file.size() : nl + 1);
    ++line_no;
    if (line.empty()) continue;
    size_t sp = line.find(' ');
    uint32_t rank = 0;
    std::string_view num = sp == std::string_view::npos ? "" : line.substr(sp + 1);
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), rank);
    size_t before = t.arena_.size();
    if (sp == 0 || sp == std::string_view::npos || ec != std::errc() ||
        ptr != num.data() + num.size() || rank != t.offsets_.size() ||
        !DecodeBase64(line.substr(0, sp), &t.arena_) || t.arena_.size() == before) {
      return DataLoss("tokenizer rank data: malformed line " + std::to_string(line_no),
                      "tokenizer_data_corrupt");
    }
    t.offsets_.push_back(static_cast<uint32_t>(before));
  }
  size_t n = t.offsets_.size();
  t.offsets_.push_back(static_cast<uint32_t>(t.arena_.size()));
  t.arena_.shrink_to_fit();
  t.offsets_.shrink_to_fit();

  // Load factor <= 0.5 keeps probe sequences short for the misses that BPE merging mostly does.
  size_t capacity = 1024;
  while (capacity < 2 * n) capacity <<= 1;
  t.slots_.assign(capacity, 0);
  t.mask_ = capacity - 1;
  for (auto& r : t.byte_rank_) r = kNoRank;
  for (uint32_t rank = 0; rank < n; ++rank) {
    std::string_view bytes = t.Bytes(rank);
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    if (bytes.size() == 1) {
      if (t.byte_rank_[data[0]] != kNoRank) return Duplicate(rank);
      t.byte_rank_[data[0]] = rank;
      continue;
    }
    if (t.Find(data, bytes.size()) != kNoRank) return Duplicate(rank);
    uint64_t h = Hash(data, bytes.size());
    uint64_t i = h & t.mask_;
    while (t.slots_[i] != 0) i = (i + 1) & t.mask_;
    t.slots_[i] = ((h >> 32) << 32) | (rank + 1);
  }
  // Byte-level BPE needs every single byte as a token, or some input could not be encoded.
  for (uint32_t b = 0; b < 256; ++b) {
    if (t.byte_rank_[b] == kNoRank) {
      return DataLoss("tokenizer rank data: no token for byte " + std::to_string(b),
                      "tokenizer_data_corrupt");
    }
  }
  return t;
}

}  // namespace ingest::text::internal
