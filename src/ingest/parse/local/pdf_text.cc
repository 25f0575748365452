#include "ingest/parse/local/pdf_text.h"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <algorithm>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

namespace ingest::parse {
namespace {

// Below this many pages per thread, a second poppler document costs more than it saves.
constexpr int kMinPagesPerThread = 16;

void DiscardPopplerMessage(const std::string& /*message*/, void* /*closure*/) {}

void SilencePoppler() {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function(&DiscardPopplerMessage, nullptr); });
}

Result<std::unique_ptr<poppler::document>> Open(const std::string& path) {
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_file(path));
  if (doc == nullptr) {
    return InvalidArgument("the PDF cannot be opened: it is corrupt or truncated", "pdf_corrupt");
  }
  if (doc->is_locked()) {
    return InvalidArgument("the PDF is encrypted and needs a password to open", "pdf_encrypted");
  }
  return doc;
}

// Extracts the pages first, first + stride, ... of `doc` into `out` (sized to every page).
Status ExtractStrided(poppler::document& doc, int first, int stride,
                      std::vector<store::PageText>* out) {
  const int pages = static_cast<int>(out->size());
  for (int i = first; i < pages; i += stride) {
    std::unique_ptr<poppler::page> page(doc.create_page(i));
    if (page == nullptr) {
      return InvalidArgument("page " + std::to_string(i + 1) + " of the PDF cannot be read",
                             "pdf_corrupt");
    }
    const poppler::byte_array utf8 =
        page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout).to_utf8();
    (*out)[static_cast<size_t>(i)] = store::PageText{i + 1, std::string(utf8.begin(), utf8.end())};
  }
  return Status::Ok();
}

// One helper thread's share: its own poppler document (poppler objects are not shared between
// threads), pages first, first + stride, ... Exceptions stay inside the thread.
Status ExtractShare(const std::string& path, int first, int stride,
                    std::vector<store::PageText>* out) {
  try {
    INGEST_ASSIGN_OR_RETURN(std::unique_ptr<poppler::document> doc, Open(path));
    return ExtractStrided(*doc, first, stride, out);
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory while extracting text from the PDF", "pdf_too_large");
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("the PDF cannot be read: ") + e.what(), "pdf_corrupt");
  }
}

Result<std::vector<store::PageText>> Extract(const std::string& path, int max_pages, int threads) {
  if (!std::ifstream(path, std::ios::binary).good()) {
    return NotFound("cannot read " + path);
  }
  INGEST_ASSIGN_OR_RETURN(std::unique_ptr<poppler::document> doc, Open(path));
  const int pages = doc->pages();
  if (pages <= 0) {
    return InvalidArgument("the PDF has no pages (corrupt or truncated)", "pdf_corrupt");
  }
  if (pages > max_pages) {
    return ResourceExhausted("the PDF has " + std::to_string(pages) + " pages, over the limit of " +
                                 std::to_string(max_pages),
                             "too_many_pages");
  }
  std::vector<store::PageText> out(static_cast<size_t>(pages));
  // Interleaved shares (thread t takes pages t, t + n, ...) balance manuals whose heavy pages
  // cluster (an index, a table appendix) better than contiguous ranges would.
  const int n = std::clamp(pages / kMinPagesPerThread, 1, std::max(1, threads));
  std::vector<Status> shares(static_cast<size_t>(n), Status::Ok());
  std::vector<std::thread> helpers;
  helpers.reserve(static_cast<size_t>(n - 1));
  for (int t = 1; t < n; ++t) {
    helpers.emplace_back(
        [&, t] { shares[static_cast<size_t>(t)] = ExtractShare(path, t, n, &out); });
  }
  shares[0] = ExtractStrided(*doc, 0, n, &out);
  for (std::thread& h : helpers) h.join();
  // A failing page fails the document: the first share's error, in thread order.
  const Status* first_error = nullptr;
  for (const Status& st : shares) {
    if (!st.ok() && first_error == nullptr) first_error = &st;
  }
  if (first_error != nullptr) return *first_error;
  return out;
}

}  // namespace

Result<std::vector<store::PageText>> ExtractPdfPages(const std::string& path, int max_pages,
                                                     int threads) {
  SilencePoppler();
  // poppler-cpp reports failures through return values, but allocation failures and the
  // standard library inside it can still throw; nothing may cross the module boundary.
  try {
    return Extract(path, max_pages, threads);
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory while extracting text from the PDF", "pdf_too_large");
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("the PDF cannot be read: ") + e.what(), "pdf_corrupt");
  }
}

}  // namespace ingest::parse
