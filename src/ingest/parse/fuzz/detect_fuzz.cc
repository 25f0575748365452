// libFuzzer target: type detection on arbitrary bytes (including ZIP parsing through libzip).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ingest/parse/detect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const ingest::parse::DocType t = ingest::parse::DetectType(bytes, "input.pdf");
  if (ingest::parse::DocTypeName(t).empty()) std::abort();
  if (t == ingest::parse::DocType::kUnknown &&
      ingest::parse::DescribeUnsupported(bytes, "input.pdf").empty()) {
    std::abort();
  }
  return 0;
}
