// ingestd's in-process OCR path (parse/ocr/ocr.h: Leptonica decode + Tesseract 5 C++ API) on
// image files, for bench/ocr.sh, which runs the `tesseract` command line on the same images in
// the same run and scores both against the PDF text layer.
//
//   ocr_bench --out DIR [--lang eng] [--threads 1] IMAGE...
//   ocr_bench --score TRUTH_DIR HYP_DIR SUFFIX
//
// The second form scores HYP_DIR/<name>SUFFIX against TRUTH_DIR/<name>.txt for every truth
// file and prints {"cer", "wer", "chars", "words"}: Levenshtein distance over the non-whitespace
// characters (UTF-8 code points) and over whitespace-separated words, summed over pages and
// divided by the reference's size.
// Writes DIR/<image name>.txt per image and prints one JSON line: images, pages, wall and CPU
// seconds, pages per CPU-second, peak RSS and mean word confidence. Each image is one OcrImage
// call (one engine start per image, as the CLI does per process and ingestd per document).
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ingest/parse/ocr/ocr.h"

namespace {

double CpuSeconds() {
  struct rusage u {};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long PeakRssKb() {
  struct rusage u {};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

template <typename T>
size_t Levenshtein(const std::vector<T>& a, const std::vector<T>& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Code points other than whitespace (as strings, one per UTF-8 sequence).
std::vector<std::string> Chars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (!std::isspace(c)) out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

std::vector<std::string> Words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

int Score(const std::string& truth_dir, const std::string& hyp_dir, const std::string& suffix) {
  size_t ce = 0, cn = 0, we = 0, wn = 0;
  for (const auto& e : std::filesystem::directory_iterator(truth_dir)) {
    if (e.path().extension() != ".txt") continue;
    const std::string ref = ReadFile(e.path());
    const std::string hyp = ReadFile(hyp_dir + "/" + e.path().stem().string() + suffix);
    const auto rc = Chars(ref), hc = Chars(hyp);
    ce += Levenshtein(rc, hc);
    cn += rc.size();
    const auto rw = Words(ref), hw = Words(hyp);
    we += Levenshtein(rw, hw);
    wn += rw.size();
  }
  std::printf("{\"cer\": %.5f, \"wer\": %.5f, \"chars\": %zu, \"words\": %zu}\n",
              cn ? static_cast<double>(ce) / cn : 0.0, wn ? static_cast<double>(we) / wn : 0.0, cn,
              wn);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--score") return Score(argv[2], argv[3], argv[4]);
  ingest::parse::OcrOptions options;
  options.enabled = true;
  std::string out_dir;
  std::vector<std::string> images;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--out" && i + 1 < argc) {
      out_dir = argv[++i];
    } else if (a == "--lang" && i + 1 < argc) {
      options.languages = argv[++i];
    } else if (a == "--threads" && i + 1 < argc) {
      options.threads = std::stoi(argv[++i]);
    } else {
      images.push_back(a);
    }
  }
  if (out_dir.empty() || images.empty()) {
    std::fprintf(stderr, "usage: ocr_bench --out DIR [--lang L] [--threads N] IMAGE...\n");
    return 2;
  }
  if (!ingest::parse::OcrBuiltIn()) {
    std::fprintf(stderr, "ocr_bench: built without OCR\n");
    return 1;
  }
  std::filesystem::create_directories(out_dir);
  const auto start = std::chrono::steady_clock::now();
  const double cpu0 = CpuSeconds();
  int64_t pages = 0, words = 0;
  double confidence_sum = 0;
  for (const auto& path : images) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    auto result = ingest::parse::OcrImage(bytes.str(), 1000, options);
    if (!result.ok()) {
      std::fprintf(stderr, "ocr_bench: %s: %s\n", path.c_str(), result.status().ToString().c_str());
      return 1;
    }
    std::string text;
    for (const auto& p : *result) {
      text += p.text;
      ++pages;
      words += p.words;
      confidence_sum += p.confidence * p.words;
    }
    std::ofstream(out_dir + "/" + std::filesystem::path(path).filename().string() + ".txt") << text;
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu0;
  std::printf(
      "{\"images\": %zu, \"pages\": %lld, \"wall_s\": %.2f, \"cpu_s\": %.2f, "
      "\"pages_per_cpu_s\": %.3f, \"peak_rss_mb\": %.1f, \"mean_word_confidence\": %.1f}\n",
      images.size(), static_cast<long long>(pages), wall, cpu, cpu > 0 ? pages / cpu : 0.0,
      PeakRssKb() / 1024.0, words > 0 ? confidence_sum / static_cast<double>(words) : 0.0);
  return 0;
}
