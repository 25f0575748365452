// Test-only: writes small, valid PDFs (correct xref table) from raw page content streams, so
// tests can make image-only, multi-column or many-page PDFs without committed binaries.
// Header-only so the module glob keeps it out of the library.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace ingest::parse::testing {

// PDF string literal escaping for ( ) and backslash.
inline std::string PdfEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '(' || c == ')' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// Content-stream operators drawing `text` at (x, y) in 11pt Helvetica (font resource /F1).
inline std::string PdfTextAt(double x, double y, const std::string& text) {
  char pos[64];
  std::snprintf(pos, sizeof pos, "%.1f %.1f Td ", x, y);
  return "BT /F1 11 Tf " + std::string(pos) + "(" + PdfEscape(text) + ") Tj ET\n";
}

// Content-stream operators that paint a grey rectangle: a page with marks but no text.
inline std::string PdfRectangle() { return "0.5 g 72 72 300 400 re f\n"; }

// A US-letter PDF with one page per content stream; every page can use /F1 (Helvetica).
// `trailer_extra` is appended inside the trailer dictionary (e.g. an /Encrypt entry).
inline std::string MakePdf(const std::vector<std::string>& page_contents,
                           const std::string& trailer_extra = "") {
  std::vector<std::string> objs;  // objs[i] is object i+1
  const size_t n = page_contents.size();
  // 1: catalog, 2: pages, 3: font, then per page: page object, content stream.
  objs.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  std::string kids;
  for (size_t i = 0; i < n; ++i) kids += std::to_string(4 + 2 * i) + " 0 R ";
  objs.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n) + " >>");
  objs.push_back(
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  for (size_t i = 0; i < n; ++i) {
    objs.push_back(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R "
        ">> >> /Contents " +
        std::to_string(5 + 2 * i) + " 0 R >>");
    objs.push_back("<< /Length " + std::to_string(page_contents[i].size()) + " >>\nstream\n" +
                   page_contents[i] + "\nendstream");
  }
  std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objs.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objs[i] + "\nendobj\n";
  }
  const size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objs.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objs.size() + 1) + " /Root 1 0 R " + trailer_extra +
         " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

}  // namespace ingest::parse::testing
