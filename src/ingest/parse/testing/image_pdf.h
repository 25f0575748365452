// Test-only: PDFs whose pages are either text (content streams, as minimal_pdf.h) or a scanned
// image (an 8-bit grey picture painted over the whole page, no text layer), so OCR tests can
// make image-only and mixed PDFs from pages rendered at test time. Header-only.
#pragma once

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-image.h>
#include <poppler/cpp/poppler-page-renderer.h>
#include <poppler/cpp/poppler-page.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace ingest::parse::testing {

struct GreyImage {
  int width = 0;
  int height = 0;
  std::string pixels;  // width * height bytes, row by row, 0 = black
};

// Renders 1-based `page` of the PDF at `path` at `dpi` (as a scanner would see the print).
inline GreyImage RenderPdfPage(const std::string& path, int page, double dpi) {
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_file(path));
  if (!doc) return {};
  std::unique_ptr<poppler::page> p(doc->create_page(page - 1));
  if (!p) return {};
  poppler::page_renderer r;
  r.set_image_format(poppler::image::format_gray8);
  r.set_render_hint(poppler::page_renderer::antialiasing, true);
  r.set_render_hint(poppler::page_renderer::text_antialiasing, true);
  poppler::image img = r.render_page(p.get(), dpi, dpi);
  GreyImage out{img.width(), img.height(), {}};
  out.pixels.reserve(static_cast<size_t>(out.width) * static_cast<size_t>(out.height));
  for (int y = 0; y < img.height(); ++y) {
    out.pixels.append(img.const_data() + static_cast<size_t>(y) * img.bytes_per_row(),
                      static_cast<size_t>(img.width()));
  }
  return out;
}

// One page: `image` set (a scan) or `content` (a text content stream using /F1 Helvetica).
struct TestPage {
  std::string content;
  GreyImage image;
  double width_pt = 612, height_pt = 792;
};

inline std::string MakePdfWithScans(const std::vector<TestPage>& pages) {
  std::vector<std::string> objs;  // objs[i] is object i+1
  objs.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  objs.push_back("");  // pages, filled below
  objs.push_back(
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  std::string kids;
  for (const TestPage& p : pages) {
    const size_t page_obj = objs.size() + 1;
    kids += std::to_string(page_obj) + " 0 R ";
    char box[96];
    std::snprintf(box, sizeof box, "[0 0 %.2f %.2f]", p.width_pt, p.height_pt);
    std::string content = p.content;
    std::string xobject;
    if (p.image.width > 0) {
      char cm[96];
      std::snprintf(cm, sizeof cm, "q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q\n", p.width_pt, p.height_pt);
      content = cm;
      xobject = " /XObject << /Im0 " + std::to_string(page_obj + 2) + " 0 R >>";
    }
    objs.push_back("<< /Type /Page /Parent 2 0 R /MediaBox " + std::string(box) +
                   " /Resources << /Font << /F1 3 0 R >>" + xobject + " >> /Contents " +
                   std::to_string(page_obj + 1) + " 0 R >>");
    objs.push_back("<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content +
                   "\nendstream");
    if (p.image.width > 0) {
      objs.push_back("<< /Type /XObject /Subtype /Image /Width " + std::to_string(p.image.width) +
                     " /Height " + std::to_string(p.image.height) +
                     " /ColorSpace /DeviceGray /BitsPerComponent 8 /Length " +
                     std::to_string(p.image.pixels.size()) + " >>\nstream\n" + p.image.pixels +
                     "\nendstream");
    }
  }
  objs[1] = "<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(pages.size()) + " >>";
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
  pdf += "trailer\n<< /Size " + std::to_string(objs.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

// Character error rate of `hypothesis` against `reference`: edit distance over the
// non-whitespace characters (bytes), divided by the reference's count. Whitespace is left out
// because OCR and text layers lay out lines and columns differently.
inline double CharErrorRate(const std::string& reference, const std::string& hypothesis) {
  auto squeeze = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c != ' ' && c != '\n' && c != '\t' && c != '\r' && c != '\f') out.push_back(c);
    }
    return out;
  };
  const std::string a = squeeze(reference), b = squeeze(hypothesis);
  if (a.empty()) return b.empty() ? 0 : 1;
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return static_cast<double>(prev[b.size()]) / static_cast<double>(a.size());
}

}  // namespace ingest::parse::testing
