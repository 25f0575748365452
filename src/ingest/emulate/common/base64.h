// Standard base64 (RFC 4648 alphabet, '=' padding, no line breaks), as OpenAI uses for
// encoding_format=base64.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ingest::emulate {

std::string Base64Encode(std::string_view bytes);
// nullopt on characters outside the alphabet or a length that is not a multiple of 4.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace ingest::emulate
