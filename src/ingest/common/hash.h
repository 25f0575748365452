// Content hashes. sha256 is how ingestd names blobs, parse results and chunk texts.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ingest/common/result.h"

namespace ingest {

// Lower-case hex sha256 of `data`.
std::string Sha256Hex(std::string_view data);

// Streaming sha256 for files too large to hold in memory. Not thread-safe.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  // Lower-case hex digest. The object must not be updated afterwards.
  std::string FinishHex();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// sha256 of a file's bytes, read in 1 MiB blocks.
Result<std::string> Sha256File(const std::string& path);

// Lower-case hex HMAC-SHA256 of `data` under `key` (RFC 2104).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// Equality whose time depends only on the lengths, not on where the contents differ: for
// comparing secrets and tokens received from the network.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// 64-bit FNV-1a; cheap, stable across platforms. For hashing features, never for identity.
uint64_t Fnv1a64(std::string_view data, uint64_t seed = 0xcbf29ce484222325ULL);

}  // namespace ingest
