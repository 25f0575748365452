#include "ingest/parse/local/pdf_text.h"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <exception>
#include <fstream>
#include <memory>
#include <mutex>

namespace ingest::parse {
namespace {

void DiscardPopplerMessage(const std::string& /*message*/, void* /*closure*/) {}

void SilencePoppler() {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function(&DiscardPopplerMessage, nullptr); });
}

Result<std::vector<store::PageText>> Extract(const std::string& path, int max_pages) {
  if (!std::ifstream(path, std::ios::binary).good()) {
    return NotFound("cannot read " + path);
  }
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_file(path));
  if (doc == nullptr) {
    return InvalidArgument("the PDF cannot be opened: it is corrupt or truncated", "pdf_corrupt");
  }
  if (doc->is_locked()) {
    return InvalidArgument("the PDF is encrypted and needs a password to open", "pdf_encrypted");
  }
  const int pages = doc->pages();
  if (pages <= 0) {
    return InvalidArgument("the PDF has no pages (corrupt or truncated)", "pdf_corrupt");
  }
  if (pages > max_pages) {
    return ResourceExhausted("the PDF has " + std::to_string(pages) + " pages, over the limit of " +
                                 std::to_string(max_pages),
                             "too_many_pages");
  }
  std::vector<store::PageText> out;
  out.reserve(static_cast<size_t>(pages));
  for (int i = 0; i < pages; ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (page == nullptr) {
      return InvalidArgument("page " + std::to_string(i + 1) + " of the PDF cannot be read",
                             "pdf_corrupt");
    }
    const poppler::byte_array utf8 =
        page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout).to_utf8();
    out.push_back(store::PageText{i + 1, std::string(utf8.begin(), utf8.end())});
  }
  return out;
}

}  // namespace

Result<std::vector<store::PageText>> ExtractPdfPages(const std::string& path, int max_pages) {
  SilencePoppler();
  // poppler-cpp reports failures through return values, but allocation failures and the
  // standard library inside it can still throw; nothing may cross the module boundary.
  try {
    return Extract(path, max_pages);
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory while extracting text from the PDF", "pdf_too_large");
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("the PDF cannot be read: ") + e.what(), "pdf_corrupt");
  }
}

}  // namespace ingest::parse
