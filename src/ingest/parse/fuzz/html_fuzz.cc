// libFuzzer target: HTML to Markdown must accept any bytes (gumbo repairs everything).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/parse/local/html_markdown.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)ingest::parse::HtmlToMarkdown(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
