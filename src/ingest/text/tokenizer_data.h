// The .tiktoken rank files, embedded into the binary at build time (see CMakeLists.txt and
// DEVELOPERS.md, "Tokenizer data").
#pragma once

#include <string_view>

namespace ingest::text::internal {

struct EmbeddedRankFile {
  std::string_view bytes;
  std::string_view sha256;  // the pinned hash the build verified; lower-case hex
};

EmbeddedRankFile Cl100kBaseRankFile();
EmbeddedRankFile O200kBaseRankFile();

}  // namespace ingest::text::internal
