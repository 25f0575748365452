// The mergeable ranks of one BPE encoding: token bytes <-> rank (the rank is the token id).
// Immutable after Parse, so safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"

namespace ingest::text::internal {

class RankTable {
 public:
  static constexpr uint32_t kNoRank = UINT32_MAX;

  // Parses a .tiktoken file: one "<base64 token bytes> <rank>" line per token, ranks 0, 1, 2...
  // in order. Anything else is kDataLoss.
  static Result<RankTable> Parse(std::string_view file);

  // Rank of the token whose bytes are [data, data + size), or kNoRank.
  uint32_t Find(const uint8_t* data, size_t size) const {
    if (size == 1) return byte_rank_[data[0]];
    if (size == 2) return pair_rank_[(data[0] << 8) | data[1]];
    uint64_t h = Hash(data, size);
    uint64_t head = Head(data, size);
    uint16_t tag = static_cast<uint16_t>(h >> 48);
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.rank_plus_one == 0) return kNoRank;
      if (slot.head != head || slot.size != size || slot.tag != tag) continue;
      // Head() identifies keys of up to 8 bytes completely; longer ones need the bytes.
      uint32_t rank = slot.rank_plus_one - 1;
      if (size <= 8 ||
          Equal(reinterpret_cast<const uint8_t*>(&arena_[offsets_[rank]]), data, size)) {
        return rank;
      }
    }
  }

  std::string_view Bytes(uint32_t rank) const {
    return std::string_view(arena_).substr(offsets_[rank], offsets_[rank + 1] - offsets_[rank]);
  }
  size_t size() const { return offsets_.size() - 1; }
  size_t MemoryBytes() const {
    return arena_.capacity() + offsets_.capacity() * sizeof(uint32_t) +
           slots_.capacity() * sizeof(Slot) + pair_rank_.capacity() * sizeof(uint32_t);
  }

 public:
  // Hash of a byte string; also used by the tokenizer's per-thread piece cache.
  static uint64_t HashBytes(const uint8_t* data, size_t size) { return Hash(data, size); }

 private:
  // Loads that never touch bytes outside [p, p + n): pieces may end at the end of the text.
  static uint64_t Load8(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  static uint64_t Load4(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  // The first and last 8 (or 4) bytes, overlapping when short, cover any key of up to 16 (or 8)
  // bytes without a variable-length copy; together with the length they identify it.
  static uint64_t Head(const uint8_t* p, size_t n) {
    if (n >= 8) return Load8(p);
    if (n >= 4) return (Load4(p) << 32) | Load4(p + n - 4);
    return (uint64_t{p[0]} << 16) | (uint64_t{p[n >> 1]} << 8) | p[n - 1];
  }
  static uint64_t Tail(const uint8_t* p, size_t n) { return n >= 8 ? Load8(p + n - 8) : 0; }

  static bool Equal(const uint8_t* a, const uint8_t* b, size_t n) {
    if (n <= 16) return Head(a, n) == Head(b, n) && Tail(a, n) == Tail(b, n);
    return std::memcmp(a, b, n) == 0;
  }

  // Short tokens dominate, so the hash mixes the head and tail words with 64x64->128
  // multiplies (the wyhash idea) and only loops for keys longer than 16 bytes. It need not be
  // stable across versions: the table is rebuilt in every process.
  static uint64_t Hash(const uint8_t* data, size_t size) {
    constexpr uint64_t kA = 0xA0761D6478BD642FULL;
    constexpr uint64_t kB = 0xE7037ED1A0B428DBULL;
    uint64_t seed = size * 0x9E3779B97F4A7C15ULL;
    if (size > 16) {
      const uint8_t* p = data;
      size_t left = size;
      while (left > 16) {
        seed = Mix(Load8(p) ^ kA, Load8(p + 8) ^ seed);
        p += 16;
        left -= 16;
      }
      return Mix(Load8(data + size - 16) ^ kA, Load8(data + size - 8) ^ seed ^ kB);
    }
    return Mix(Head(data, size) ^ kA, Tail(data, size) ^ seed ^ kB);
  }
  static uint64_t Mix(uint64_t a, uint64_t b) {
    // A 64x64->128 multiply is one instruction on x86-64 and AArch64.
    __extension__ typedef unsigned __int128 U128;
    U128 r = static_cast<U128>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
  }

  std::string arena_;              // token bytes, concatenated in rank order
  std::vector<uint32_t> offsets_;  // rank -> start in arena_; one extra entry at the end
  // Open addressing, linear probing. A slot carries the key's head word, size and 16 more hash
  // bits, so a lookup usually touches a single cache line: most tokens are at most 8 bytes,
  // and for those the slot alone decides equality.
  struct Slot {
    uint64_t head = 0;
    uint32_t rank_plus_one = 0;  // 0: empty
    uint16_t size = 0;
    uint16_t tag = 0;
  };
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
  uint32_t byte_rank_[256];
  // Ranks of all two-byte strings: BPE starts every merge by looking up each adjacent byte pair,
  // and a 256 KB array (which stays in L2) answers those without hashing.
  std::vector<uint32_t> pair_rank_;
};

}  // namespace ingest::text::internal
