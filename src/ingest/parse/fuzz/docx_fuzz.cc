// libFuzzer target: DOCX conversion. An even first byte feeds the rest as raw archive bytes
// (libzip, bomb guards); an odd one wraps it as word/document.xml in a valid archive, so the
// fuzzer reaches the XML walker instead of dying at the ZIP signature.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ingest/parse/local/docx_markdown.h"
#include "ingest/parse/testing/zip_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string bytes = rest;
  if ((data[0] & 1) != 0) {
    bytes = ingest::parse::testing::MakeZip(
        {{"[Content_Types].xml", ingest::parse::testing::kDocxContentTypes},
         {"word/document.xml", rest}});
  }
  auto md = ingest::parse::DocxToMarkdown(bytes, 1 << 20);
  if (!md.ok() && md.status().reason() != "docx_corrupt" &&
      md.status().reason() != "docx_too_large") {
    std::abort();
  }
  return 0;
}
