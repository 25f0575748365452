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
    uint64_t h = Hash(data, size);
    uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      uint64_t slot = slots_[i];
      if (slot == 0) return kNoRank;
      if (static_cast<uint32_t>(slot >> 32) != tag) continue;
      uint32_t rank = static_cast<uint32_t>(slot) - 1;
      uint32_t begin = offsets_[rank];
      if (offsets_[rank + 1] - begin == size && std::memcmp(&arena_[begin], data, size) == 0) {
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
           slots_.capacity() * sizeof(uint64_t);
  }

 private:
  // Short tokens dominate, so the hash reads whole 8-byte words and mixes them with one
  // multiply-fold each (the wyhash idea); it need not be stable across versions.
  static uint64_t Hash(const uint8_t* data, size_t size) {
    constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
    uint64_t h = size * 0xA0761D6478BD642FULL;
    while (size > 8) {
      uint64_t w;
      std::memcpy(&w, data, 8);
      h = Mix(h ^ w, kMul);
      data += 8;
      size -= 8;
    }
    uint64_t w = 0;
    std::memcpy(&w, data, size);
    return Mix(h ^ w, 0xE7037ED1A0B428DBULL);
  }
  static uint64_t Mix(uint64_t a, uint64_t b) {
    // A 64x64->128 multiply is one instruction on x86-64 and AArch64.
    __extension__ typedef unsigned __int128 U128;
    U128 r = static_cast<U128>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
  }

  std::string arena_;              // token bytes, concatenated in rank order
  std::vector<uint32_t> offsets_;  // rank -> start in arena_; one extra entry at the end
  std::vector<uint64_t> slots_;    // open addressing: (hash tag << 32) | (rank + 1); 0 = empty
  uint64_t mask_ = 0;
  uint32_t byte_rank_[256];
};

}  // namespace ingest::text::internal
