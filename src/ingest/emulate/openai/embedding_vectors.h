// Deterministic stand-in embeddings. The vector for (model, input) is a pure function of the
// pair, so repeated requests, restarts and different emulator instances agree, and tests can
// compare vectors across requests. Vectors are unit length like the real API's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ingest::emulate::openai {

// `input_key` identifies the input: the text itself, or for token-id inputs a canonical
// encoding of the ids (see TokenIdsKey). Draws `native_dims` Gaussian values from a splitmix64
// stream seeded by sha256(model, key), keeps the first `dims` (Matryoshka-style shortening) and
// L2-normalises what is kept. So a shortened vector is the renormalised prefix of the full one.
std::vector<float> DeterministicEmbedding(std::string_view model, std::string_view input_key,
                                          int native_dims, int dims);

// Canonical key for a token-id input: "\x01tokens:" + ids joined by ','. The leading control
// byte keeps it from colliding with a text input.
std::string TokenIdsKey(const std::vector<int64_t>& ids);

// JSON array text of `v`, each float in its shortest round-trip form (so parsing it back as
// float is bit-exact).
std::string FloatArrayJson(const std::vector<float>& v);
// base64 of the little-endian IEEE-754 float32 bytes of `v` (encoding_format=base64).
std::string FloatArrayBase64(const std::vector<float>& v);

}  // namespace ingest::emulate::openai
