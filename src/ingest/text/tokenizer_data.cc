// Embeds third_party/tokenizer-data/*.tiktoken with the assembler's .incbin, which costs no
// build-time conversion step and no compile time (a 3.6 MB C array would). The files were
// verified against scripts/tokenizer-data.lock at configure time; CMake passes their directory
// and hashes as INGEST_TOKENIZER_DATA_DIR and INGEST_<NAME>_SHA256.
#include "ingest/text/tokenizer_data.h"

#ifndef INGEST_TOKENIZER_DATA_DIR
#error "INGEST_TOKENIZER_DATA_DIR must be set by src/ingest/text/CMakeLists.txt"
#endif

// Each blob gets a start and an end symbol; hidden so references need no GOT entry.
#define INGEST_EMBED_FILE(sym, file)                      \
  asm(".pushsection .rodata\n"                            \
      ".balign 16\n"                                      \
      ".global " #sym "\n.hidden " #sym "\n" #sym         \
      ":\n"                                               \
      ".incbin \"" INGEST_TOKENIZER_DATA_DIR "/" file     \
      "\"\n"                                              \
      ".global " #sym "_end\n.hidden " #sym "_end\n" #sym \
      "_end:\n"                                           \
      ".popsection\n")

INGEST_EMBED_FILE(ingest_cl100k_base_tiktoken, "cl100k_base.tiktoken");
INGEST_EMBED_FILE(ingest_o200k_base_tiktoken, "o200k_base.tiktoken");

extern "C" {
extern const char ingest_cl100k_base_tiktoken[];
extern const char ingest_cl100k_base_tiktoken_end[];
extern const char ingest_o200k_base_tiktoken[];
extern const char ingest_o200k_base_tiktoken_end[];
}

namespace ingest::text::internal {
namespace {

std::string_view Span(const char* begin, const char* end) {
  return std::string_view(begin, static_cast<size_t>(end - begin));
}

}  // namespace

EmbeddedRankFile Cl100kBaseRankFile() {
  return {Span(ingest_cl100k_base_tiktoken, ingest_cl100k_base_tiktoken_end),
          INGEST_CL100K_BASE_SHA256};
}

EmbeddedRankFile O200kBaseRankFile() {
  return {Span(ingest_o200k_base_tiktoken, ingest_o200k_base_tiktoken_end),
          INGEST_O200K_BASE_SHA256};
}

}  // namespace ingest::text::internal
