#include "ingest/text/rank_table.h"

#include <array>
#include <cstring>

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

// Decodes unpadded-or-padded base64 [in, end) to `out`; returns the number of bytes written, or
// SIZE_MAX on a character outside the alphabet.
size_t DecodeBase64(const char* in, const char* end, char* out) {
  while (end > in && end[-1] == '=') --end;
  uint32_t acc = 0;
  int bits = 0;
  char* o = out;
  for (; in < end; ++in) {
    uint8_t v = kBase64[static_cast<uint8_t>(*in)];
    if (v == 0xFF) return SIZE_MAX;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *o++ = static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return static_cast<size_t>(o - out);
}

Status Duplicate(uint32_t rank) {
  return DataLoss("tokenizer rank data: duplicate token at rank " + std::to_string(rank),
                  "tokenizer_data_corrupt");
}

}  // namespace

// Loading runs once per process and should take a few milliseconds: the lines are parsed by
// hand, bytes are decoded straight into the arena, and the hash table is filled in a second
// pass that prefetches the slot it will probe a few tokens ahead, since with 100-200k tokens
// nearly every probe of the multi-megabyte table is a cache miss.
Result<RankTable> RankTable::Parse(std::string_view file) {
  RankTable t;
  auto malformed = [](size_t line) {
    return DataLoss("tokenizer rank data: malformed line " + std::to_string(line),
                    "tokenizer_data_corrupt");
  };
  t.arena_.resize(file.size() * 3 / 4 + 8);
  t.offsets_.reserve(file.size() / 8);
  size_t used = 0;
  const char* p = file.data();
  const char* const end = p + file.size();
  for (size_t line = 1; p < end; ++line) {
    if (*p == '\n') {  // tolerate blank lines
      ++p;
      continue;
    }
    const char* sp = static_cast<const char*>(std::memchr(p, ' ', static_cast<size_t>(end - p)));
    if (sp == nullptr) return malformed(line);
    size_t got = DecodeBase64(p, sp, &t.arena_[used]);
    if (got == 0 || got == SIZE_MAX) return malformed(line);
    uint64_t rank = 0;
    const char* q = sp + 1;
    for (; q < end && *q >= '0' && *q <= '9'; ++q)
      rank = rank * 10 + static_cast<uint64_t>(*q - '0');
    if (q == sp + 1 || (q < end && *q != '\n') || rank != t.offsets_.size()) {
      return malformed(line);
    }
    t.offsets_.push_back(static_cast<uint32_t>(used));
    used += got;
    p = q < end ? q + 1 : q;
  }
  const size_t n = t.offsets_.size();
  t.offsets_.push_back(static_cast<uint32_t>(used));
  t.arena_.resize(used);
  t.arena_.shrink_to_fit();
  t.offsets_.shrink_to_fit();

  // Load factor <= 0.5 keeps probe sequences short for the misses that BPE merging mostly does.
  size_t capacity = 1024;
  while (capacity < 2 * n) capacity <<= 1;
  t.slots_.assign(capacity, Slot{});
  t.mask_ = capacity - 1;
  std::vector<uint64_t> hashes(n);
  for (uint32_t rank = 0; rank < n; ++rank) {
    std::string_view bytes = t.Bytes(rank);
    hashes[rank] = Hash(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  for (auto& r : t.byte_rank_) r = kNoRank;
  t.pair_rank_.assign(65536, kNoRank);
  constexpr uint32_t kPrefetchDistance = 16;
  for (uint32_t rank = 0; rank < n; ++rank) {
    if (rank + kPrefetchDistance < n) {
      __builtin_prefetch(&t.slots_[hashes[rank + kPrefetchDistance] & t.mask_], 1);
    }
    std::string_view bytes = t.Bytes(rank);
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    const size_t size = bytes.size();
    if (size == 1) {
      if (t.byte_rank_[data[0]] != kNoRank) return Duplicate(rank);
      t.byte_rank_[data[0]] = rank;
      continue;
    }
    if (size == 2) {
      uint32_t& pair = t.pair_rank_[(data[0] << 8) | data[1]];
      if (pair != kNoRank) return Duplicate(rank);
      pair = rank;
      continue;
    }
    if (size > UINT16_MAX) {
      return DataLoss("tokenizer rank data: token too long at rank " + std::to_string(rank),
                      "tokenizer_data_corrupt");
    }
    const uint64_t h = hashes[rank];
    const Slot slot{Head(data, size), rank + 1, static_cast<uint16_t>(size),
                    static_cast<uint16_t>(h >> 48)};
    uint64_t i = h & t.mask_;
    for (; t.slots_[i].rank_plus_one != 0; i = (i + 1) & t.mask_) {
      const Slot& other = t.slots_[i];
      if (other.head == slot.head && other.size == slot.size && other.tag == slot.tag &&
          (size <= 8 || t.Bytes(other.rank_plus_one - 1) == bytes)) {
        return Duplicate(rank);
      }
    }
    t.slots_[i] = slot;
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
