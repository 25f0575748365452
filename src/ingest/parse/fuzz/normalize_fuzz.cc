// libFuzzer target: the normaliser's contract on arbitrary bytes. Output must be valid UTF-8
// without NUL or CR, normalising twice must change nothing, and validation must not crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "ingest/text/normalize.h"
#include "ingest/text/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string out = ingest::text::NormalizeText(in);
  if (!ingest::text::IsValidUtf8(out)) std::abort();
  if (out.find('\0') != std::string::npos || out.find('\r') != std::string::npos) std::abort();
  if (ingest::text::NormalizeText(out) != out) std::abort();
  std::vector<ingest::store::PageText> pages = {{1, out}};
  (void)ingest::text::ValidateParsedText(pages, (size & 1) != 0);
  return 0;
}
