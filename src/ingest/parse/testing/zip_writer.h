// Test-only: builds ZIP archives (and DOCX files) in memory with libzip, so tests need no
// committed binaries. Header-only so the module glob keeps it out of the library.
// Aborts the test binary on libzip failure (a broken test environment, not a test result).
#pragma once

#include <zip.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace ingest::parse::testing {

inline std::string MakeZip(const std::vector<std::pair<std::string, std::string>>& entries) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (out == nullptr) std::abort();
  zip_source_keep(out);
  zip_t* z = zip_open_from_source(out, ZIP_TRUNCATE, &err);
  if (z == nullptr) std::abort();
  for (const auto& [name, data] : entries) {
    // libzip copies nothing: keep the data alive until zip_close, which the caller's vector does.
    zip_source_t* s = zip_source_buffer(z, data.data(), data.size(), 0);
    if (s == nullptr || zip_file_add(z, name.c_str(), s, ZIP_FL_OVERWRITE) < 0) std::abort();
  }
  if (zip_close(z) != 0) std::abort();
  std::string bytes;
  zip_stat_t st;
  if (zip_source_open(out) != 0 || zip_source_stat(out, &st) != 0) std::abort();
  bytes.resize(static_cast<size_t>(st.size));
  if (zip_source_read(out, bytes.data(), st.size) != static_cast<zip_int64_t>(st.size)) {
    std::abort();
  }
  zip_source_close(out);
  zip_source_free(out);
  zip_error_fini(&err);
  return bytes;
}

inline constexpr char kDocxContentTypes[] =
    R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>)"
    R"(<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">)"
    R"(<Default Extension="xml" ContentType="application/xml"/>)"
    R"(<Override PartName="/word/document.xml" ContentType="application/)"
    R"(vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>)";

// A DOCX whose w:body holds `body_xml` (w:p / w:tbl elements using the w: prefix).
inline std::string MakeDocx(const std::string& body_xml) {
  const std::string doc =
      R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>)"
      R"(<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">)"
      "<w:body>" +
      body_xml + "</w:body></w:document>";
  return MakeZip({{"[Content_Types].xml", kDocxContentTypes}, {"word/document.xml", doc}});
}

// A paragraph with one run; style "" for none.
inline std::string DocxParagraph(const std::string& text, const std::string& style = "") {
  std::string p = "<w:p>";
  if (!style.empty()) p += R"(<w:pPr><w:pStyle w:val=")" + style + R"("/></w:pPr>)";
  return p + "<w:r><w:t xml:space=\"preserve\">" + text + "</w:t></w:r></w:p>";
}

}  // namespace ingest::parse::testing
