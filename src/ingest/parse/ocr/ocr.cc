#include "ingest/parse/ocr/ocr.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <thread>

#if INGEST_HAVE_OCR
#include <leptonica/allheaders.h>
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-image.h>
#include <poppler/cpp/poppler-page-renderer.h>
#include <poppler/cpp/poppler-page.h>
#include <tesseract/baseapi.h>
#include <tesseract/ocrclass.h>
#endif

namespace ingest::parse {

std::string_view ImageFormatOf(std::string_view head) {
  if (head.starts_with("\x89PNG\r\n\x1a\n")) return "png";
  if (head.starts_with("\xFF\xD8\xFF")) return "jpeg";
  if (head.starts_with(std::string_view("II*\0", 4)) ||
      head.starts_with(std::string_view("MM\0*", 4))) {
    return "tiff";
  }
  return "";
}

#if INGEST_HAVE_OCR

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void SilenceLibraries() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Leptonica prints every decode failure to stderr; our Status says what matters.
    setMsgSeverity(L_SEVERITY_NONE);
    poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr);
  });
}

// One Tesseract engine. Not thread-safe: one per thread.
class Engine {
 public:
  Status Start(const OcrOptions& options) {
    // Tesseract's own diagnostics ("Estimating resolution", "Empty page!!") are noise here.
    api_.SetVariable("debug_file", "/dev/null");
    const char* datapath = options.tessdata_dir.empty() ? nullptr : options.tessdata_dir.c_str();
    const int rc = api_.Init(datapath, options.languages.c_str(), tesseract::OEM_LSTM_ONLY);
    // Init succeeds when the first language loads even if a further one ("eng+zzz") does not:
    // compare what was loaded with what was asked for.
    std::vector<std::string> loaded;
    if (rc == 0) api_.GetLoadedLanguagesAsVector(&loaded);
    std::string missing;
    for (size_t start = 0; start <= options.languages.size();) {
      size_t end = options.languages.find('+', start);
      if (end == std::string::npos) end = options.languages.size();
      const std::string lang = options.languages.substr(start, end - start);
      if (!lang.empty() && std::find(loaded.begin(), loaded.end(), lang) == loaded.end()) {
        missing += (missing.empty() ? "" : ", ") + lang;
      }
      start = end + 1;
    }
    if (rc != 0 || !missing.empty()) {
      return FailedPrecondition(
          "OCR language pack(s) " + (missing.empty() ? options.languages : missing) +
              " (parse.ocr_languages = \"" + options.languages + "\") could not be loaded from " +
              (options.tessdata_dir.empty() ? std::string("Tesseract's default tessdata folder")
                                            : options.tessdata_dir) +
              " (on Debian install tesseract-ocr-<lang>, e.g. tesseract-ocr-eng)",
          "ocr_language_missing");
    }
    // TessBaseAPI defaults to one uniform block of text (PSM 6), which reads straight across
    // the columns of a multi-column page; automatic layout analysis (what the tesseract command
    // line uses) finds columns and blocks, so reading order follows the page.
    api_.SetPageSegMode(tesseract::PSM_AUTO);
    timeout_ = options.page_timeout;
    return Status::Ok();
  }

  // Recognises the image already given to the engine (SetImage) into `out`.
  void Recognize(int dpi, OcrPageResult* out) {
    api_.SetSourceResolution(dpi);
    tesseract::ETEXT_DESC monitor;
    if (timeout_.count() > 0) monitor.set_deadline_msecs(static_cast<int32_t>(timeout_.count()));
    const int rc = api_.Recognize(&monitor);
    if (rc != 0 || (timeout_.count() > 0 && monitor.deadline_exceeded())) {
      out->error_code = monitor.deadline_exceeded() ? "ocr_page_timeout" : "ocr_failed";
      out->error_message = monitor.deadline_exceeded()
                               ? "recognition took longer than " +
                                     std::to_string(timeout_.count() / 1000.0) +
                                     " s (parse.ocr_page_timeout_s); the page was not used"
                               : "Tesseract could not recognise the page";
      api_.Clear();
      return;
    }
    std::unique_ptr<char[]> text(api_.GetUTF8Text());
    if (text) out->text = text.get();
    std::unique_ptr<int[]> confidences(api_.AllWordConfidences());
    int64_t sum = 0;
    int n = 0;
    for (const int* c = confidences.get(); c != nullptr && *c >= 0; ++c) {
      sum += *c;
      ++n;
    }
    out->words = n;
    out->confidence = n > 0 ? static_cast<double>(sum) / n : 0;
    api_.Clear();
  }

  tesseract::TessBaseAPI& api() { return api_; }

 private:
  tesseract::TessBaseAPI api_;
  std::chrono::milliseconds timeout_{0};
};

// Renders one page as 8-bit grey at options.dpi, lowered to fit max_page_pixels.
void RenderAndRecognize(const poppler::document& doc, int page_number, const OcrOptions& options,
                        Engine& engine, OcrPageResult* out) {
  const auto start = Clock::now();
  out->page = page_number;
  std::unique_ptr<poppler::page> page(doc.create_page(page_number - 1));
  if (page == nullptr) {
    out->error_code = "ocr_render_failed";
    out->error_message = "the page cannot be read";
    return;
  }
  const poppler::rectf box = page->page_rect(poppler::media_box);
  const double w_in = std::abs(box.width()) / 72.0;
  const double h_in = std::abs(box.height()) / 72.0;
  double dpi = options.dpi;
  const double pixels = w_in * dpi * h_in * dpi;
  if (pixels > static_cast<double>(options.max_page_pixels)) {
    dpi = std::floor(dpi * std::sqrt(static_cast<double>(options.max_page_pixels) / pixels));
  }
  if (dpi < 50) {
    out->error_code = "ocr_page_too_large";
    out->error_message = "the page (" + std::to_string(static_cast<int>(w_in * 72)) + " x " +
                         std::to_string(static_cast<int>(h_in * 72)) +
                         " pt) cannot be rendered at 50 DPI within parse.ocr_max_page_pixels";
    return;
  }
  out->dpi = static_cast<int>(dpi);
  poppler::page_renderer renderer;
  renderer.set_image_format(poppler::image::format_gray8);
  renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
  renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
  poppler::image image = renderer.render_page(page.get(), dpi, dpi);
  if (!image.is_valid() || image.width() <= 0 || image.height() <= 0) {
    out->error_code = "ocr_render_failed";
    out->error_message = "poppler could not render the page";
    return;
  }
  engine.api().SetImage(reinterpret_cast<const unsigned char*>(image.const_data()), image.width(),
                        image.height(), 1, image.bytes_per_row());
  engine.Recognize(out->dpi, out);
  out->seconds = SecondsSince(start);
}

// Runs `work(index, engine, state)` for indexes [0, n) on up to options.threads threads, each
// with its own engine and its own `state` (made by `make_state` on that thread). Fails only when
// an engine cannot start.
template <typename MakeState, typename Work>
Status RunOnThreads(size_t n, const OcrOptions& options, MakeState make_state, Work work) {
  const size_t threads = std::max<size_t>(1, std::min<size_t>(options.threads, n));
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error;
  auto run = [&] {
    Engine engine;
    if (Status s = engine.Start(options); !s.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (first_error.ok()) first_error = s;
      return;
    }
    auto state = make_state();
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) work(i, engine, state);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
  return first_error;
}

}  // namespace

bool OcrBuiltIn() { return true; }

std::string OcrEngineVersion() {
  return std::string("tesseract ") + tesseract::TessBaseAPI::Version();
}

Status CheckOcrLanguages(const OcrOptions& options) {
  SilenceLibraries();
  Engine engine;
  return engine.Start(options);
}

Result<std::vector<OcrPageResult>> OcrPdfPages(const std::string& path,
                                               const std::vector<int>& pages,
                                               const OcrOptions& options) {
  SilenceLibraries();
  std::vector<OcrPageResult> out(pages.size());
  if (pages.empty()) return out;
  if (options.before_ocr) options.before_ocr(static_cast<int>(pages.size()));
  // One poppler document per thread: poppler-cpp does not promise that rendering two pages
  // of one document concurrently is safe.
  auto open = [&] {
    return std::unique_ptr<poppler::document>(poppler::document::load_from_file(path));
  };
  Status s = RunOnThreads(pages.size(), options, open,
                          [&](size_t i, Engine& engine, std::unique_ptr<poppler::document>& doc) {
                            out[i].page = pages[i];
                            if (doc == nullptr || doc->is_locked()) {
                              out[i].error_code = "ocr_render_failed";
                              out[i].error_message = "the PDF cannot be opened for rendering";
                              return;
                            }
                            try {
                              RenderAndRecognize(*doc, pages[i], options, engine, &out[i]);
                            } catch (const std::exception& e) {
                              out[i] = OcrPageResult{};
                              out[i].page = pages[i];
                              out[i].error_code = "ocr_render_failed";
                              out[i].error_message = std::string("rendering failed: ") + e.what();
                            }
                          });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<OcrPageResult>> OcrImage(std::string_view bytes, int max_pages,
                                            const OcrOptions& options) {
  SilenceLibraries();
  const auto* data = reinterpret_cast<const l_uint8*>(bytes.data());
  l_int32 format = 0, w = 0, h = 0, bps = 0, spp = 0, cmap = 0;
  if (ImageFormatOf(bytes).empty() ||
      pixReadHeaderMem(data, bytes.size(), &format, &w, &h, &bps, &spp, &cmap) != 0 || w <= 0 ||
      h <= 0) {
    return InvalidArgument("the image cannot be decoded: it is corrupt or truncated",
                           "image_corrupt");
  }
  if (static_cast<int64_t>(w) * h > options.max_page_pixels) {
    return ResourceExhausted("the image is " + std::to_string(w) + " x " + std::to_string(h) +
                                 " pixels, over parse.ocr_max_page_pixels (" +
                                 std::to_string(options.max_page_pixels) + ")",
                             "image_too_large");
  }
  // Decode every page first (TIFF pages are decoded one at a time and converted to grey, so a
  // page costs about w*h bytes while it waits).
  struct PixDeleter {
    void operator()(PIX* p) const { pixDestroy(&p); }
  };
  std::vector<std::unique_ptr<PIX, PixDeleter>> images;
  auto add = [&](PIX* raw) -> Status {
    std::unique_ptr<PIX, PixDeleter> pix(raw);
    if (pix == nullptr) {
      return InvalidArgument("the image cannot be decoded: it is corrupt or truncated",
                             "image_corrupt");
    }
    if (static_cast<int64_t>(pixGetWidth(pix.get())) * pixGetHeight(pix.get()) >
        options.max_page_pixels) {
      return ResourceExhausted("a page of the image is over parse.ocr_max_page_pixels",
                               "image_too_large");
    }
    std::unique_ptr<PIX, PixDeleter> grey(pixConvertTo8(pix.get(), 0));
    if (grey == nullptr) {
      return InvalidArgument("the image cannot be converted to grey", "image_corrupt");
    }
    if (pixGetXRes(grey.get()) < 70) pixSetResolution(grey.get(), 300, 300);
    images.push_back(std::move(grey));
    return Status::Ok();
  };
  const bool tiff = format >= IFF_TIFF && format <= IFF_TIFF_ZIP;
  if (tiff) {
    size_t offset = 0;
    do {
      if (static_cast<int>(images.size()) >= max_pages) {
        return ResourceExhausted(
            "the TIFF has more than " + std::to_string(max_pages) + " pages (parse.max_pages)",
            "too_many_pages");
      }
      INGEST_RETURN_IF_ERROR(add(pixReadMemFromMultipageTiff(data, bytes.size(), &offset)));
    } while (offset != 0);
  } else {
    INGEST_RETURN_IF_ERROR(add(pixReadMem(data, bytes.size())));
  }
  std::vector<OcrPageResult> out(images.size());
  if (options.before_ocr) options.before_ocr(static_cast<int>(images.size()));
  INGEST_RETURN_IF_ERROR(RunOnThreads(
      images.size(), options, [] { return 0; },
      [&](size_t i, Engine& engine, int&) {
        const auto start = Clock::now();
        out[i].page = static_cast<int>(i) + 1;
        out[i].dpi = pixGetXRes(images[i].get());
        engine.api().SetImage(images[i].get());
        engine.Recognize(out[i].dpi, &out[i]);
        out[i].seconds = SecondsSince(start);
      }));
  return out;
}

#else  // !INGEST_HAVE_OCR

namespace {
Status NotBuilt() {
  return FailedPrecondition(
      "this ingestd was built without OCR (CMake INGEST_WITH_OCR=OFF): scanned pages and "
      "images cannot be read locally",
      "ocr_not_built");
}
}  // namespace

bool OcrBuiltIn() { return false; }
std::string OcrEngineVersion() { return ""; }
Status CheckOcrLanguages(const OcrOptions&) { return NotBuilt(); }
Result<std::vector<OcrPageResult>> OcrPdfPages(const std::string&, const std::vector<int>&,
                                               const OcrOptions&) {
  return NotBuilt();
}
Result<std::vector<OcrPageResult>> OcrImage(std::string_view, int, const OcrOptions&) {
  return NotBuilt();
}

#endif  // INGEST_HAVE_OCR

}  // namespace ingest::parse
