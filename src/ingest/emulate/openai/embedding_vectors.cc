#include "ingest/emulate/openai/embedding_vectors.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "ingest/common/hash.h"
#include "ingest/emulate/common/base64.h"
#include "ingest/emulate/common/fault_injector.h"

namespace ingest::emulate::openai {
namespace {

uint64_t SeedFrom(std::string_view model, std::string_view key) {
  std::string material;
  material.reserve(model.size() + 1 + key.size());
  material.append(model);
  material.push_back('\0');
  material.append(key);
  const std::string hex = Sha256Hex(material);
  uint64_t seed = 0;
  std::from_chars(hex.data(), hex.data() + 16, seed, 16);
  return seed;
}

}  // namespace

std::vector<float> DeterministicEmbedding(std::string_view model, std::string_view input_key,
                                          int native_dims, int dims) {
  uint64_t state = SeedFrom(model, input_key);
  std::vector<double> full(static_cast<size_t>(native_dims));
  // Box-Muller, two normals per pair of uniforms. Uniforms are in (0, 1] so log() is finite.
  for (size_t i = 0; i < full.size(); i += 2) {
    const double u1 = (static_cast<double>(SplitMix64(state) >> 11) + 1.0) * 0x1.0p-53;
    const double u2 = static_cast<double>(SplitMix64(state) >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2.0 * std::log(u1));
    full[i] = r * std::cos(2 * M_PI * u2);
    if (i + 1 < full.size()) full[i + 1] = r * std::sin(2 * M_PI * u2);
  }
  double norm = 0;
  for (int i = 0; i < dims; ++i) norm += full[i] * full[i];
  norm = std::sqrt(norm);
  if (norm == 0) norm = 1;
  std::vector<float> out(static_cast<size_t>(dims));
  for (int i = 0; i < dims; ++i) out[i] = static_cast<float>(full[i] / norm);
  return out;
}

std::string TokenIdsKey(const std::vector<int64_t>& ids) {
  std::string key = "\x01tokens:";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) key.push_back(',');
    key += std::to_string(ids[i]);
  }
  return key;
}

std::string FloatArrayJson(const std::vector<float>& v) {
  std::string out;
  out.reserve(v.size() * 14 + 2);
  out.push_back('[');
  char buf[32];
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out.push_back(',');
    const auto res = std::to_chars(buf, buf + sizeof(buf), v[i]);
    out.append(buf, res.ptr);
  }
  out.push_back(']');
  return out;
}

std::string FloatArrayBase64(const std::vector<float>& v) {
  std::string bytes(v.size() * 4, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &v[i], 4);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
  }
  return Base64Encode(bytes);
}

}  // namespace ingest::emulate::openai
