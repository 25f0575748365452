#include "ingest/parse/contained/parse_child.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/parse/contained/parse_wire.h"
#include "ingest/parse/local/local_parser.h"

// RLIMIT_AS cannot be combined with the sanitizers: they reserve terabytes of address space for
// their shadow memory up front.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define INGEST_PARSE_CHILD_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define INGEST_PARSE_CHILD_SANITIZED 1
#endif
#endif
#ifndef INGEST_PARSE_CHILD_SANITIZED
#define INGEST_PARSE_CHILD_SANITIZED 0
#endif

namespace ingest::parse {
namespace {

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      ::_exit(kParseChildBadArguments);  // the parent is gone or closed the pipe
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

[[noreturn]] void OutOfMemory() {
  static constexpr std::string_view kMsg = "ingestd parse: out of memory (address-space limit)\n";
  (void)!::write(2, kMsg.data(), kMsg.size());
  ::_exit(kParseChildOutOfMemory);
}

[[noreturn]] void BadArguments(std::string_view what) {
  std::string msg = "ingestd parse: bad arguments: " + std::string(what) + "\n";
  (void)!::write(2, msg.data(), msg.size());
  ::_exit(kParseChildBadArguments);
}

int64_t Int(const std::map<std::string, std::string>& args, const std::string& key) {
  auto it = args.find(key);
  if (it == args.end()) BadArguments("missing " + key);
  int64_t v = 0;
  const char* b = it->second.data();
  const char* e = b + it->second.size();
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p != e) BadArguments(key + " is not a number");
  return v;
}

void SetLimit(int resource, rlim_t soft, rlim_t hard) {
  struct rlimit lim {
    soft, hard
  };
  if (::setrlimit(resource, &lim) != 0) BadArguments(std::string("setrlimit: ") + strerror(errno));
}

// ---- test hooks (see parse_child.h) ----

int Recurse(int depth) {
  volatile char pad[1024];
  pad[0] = static_cast<char>(depth);
  if (depth < 0) return 0;  // never true; keeps this from being a provably endless recursion
  return Recurse(depth + 1) + pad[0];
}

void RunTestHook(const std::string& path, int64_t memory_bytes) {
  const char* enabled = std::getenv("INGESTD_TEST_HOOKS");
  if (enabled == nullptr || std::string_view(enabled) != "1") return;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  if (!std::getline(in, line)) return;
  constexpr std::string_view kPrefix = "INGESTD-TEST-HOOK:";
  if (!line.starts_with(kPrefix)) return;
  const std::string action = line.substr(kPrefix.size());
  if (action == "crash") {
    ::raise(SIGSEGV);
  } else if (action == "abort") {
    std::abort();
  } else if (action == "stack") {
    (void)Recurse(0);
  } else if (action == "hang") {
    ::signal(SIGTERM, SIG_IGN);
    for (;;) ::pause();
  } else if (action == "spin") {
    ::signal(SIGTERM, SIG_IGN);
    volatile uint64_t x = 0;
    for (;;) x = x + 1;
  } else if (action == "oom") {
    std::vector<char*> held;
    int64_t total = 0;
    for (;;) {
      constexpr size_t kChunk = 16 << 20;
      char* p = new char[kChunk];
      std::memset(p, 1, kChunk);
      held.push_back(p);
      total += static_cast<int64_t>(kChunk);
      // Without RLIMIT_AS (sanitizer builds) the hook stops itself at the configured limit
      // instead of exhausting the machine.
      if (INGEST_PARSE_CHILD_SANITIZED && total > memory_bytes) OutOfMemory();
    }
  } else if (action == "flood") {
    const std::string junk(1 << 20, 'x');
    for (;;) WriteAll(1, junk);
  } else if (action == "exit") {
    ::_exit(3);
  }
}

}  // namespace

int RunParseChild(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    const size_t eq = a.find('=');
    if (eq == std::string_view::npos) BadArguments(std::string(a));
    args.emplace(std::string(a.substr(0, eq)), std::string(a.substr(eq + 1)));
  }
  // Die with the parent: an orphaned parse is work nobody will read. The check after it
  // closes the race with a parent that died before the prctl.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (static_cast<int64_t>(::getppid()) != Int(args, "parent_pid"))
    ::_exit(kParseChildBadArguments);

  const int64_t cpu_seconds = Int(args, "cpu_seconds");
  const int64_t memory_bytes = Int(args, "memory_bytes");
  const bool ocr = args.count("ocr") > 0 && Int(args, "ocr") == 1;
  const int64_t ocr_budget = ocr ? Int(args, "ocr_budget_seconds") : 0;
  const int64_t ocr_threads = ocr ? std::max<int64_t>(1, Int(args, "ocr_threads")) : 1;
  // The child's own wall clock (the parent's deadline is later when OCR may run): SIGALRM
  // ends it, which the parent reports as parse_timeout.
  const int64_t wall_seconds = args.count("wall_seconds") > 0 ? Int(args, "wall_seconds") : 0;
  if (wall_seconds > 0) ::alarm(static_cast<unsigned>(wall_seconds));
  SetLimit(RLIMIT_CORE, 0, 0);
  // Files: the child reads the document and writes to a pipe; it creates nothing.
  SetLimit(RLIMIT_FSIZE, 0, 0);
  if (cpu_seconds > 0) {
    // SIGXCPU at the soft limit, SIGKILL a second later should it be caught or ignored.
    // With OCR the hard limit leaves room for the OCR budget on every OCR thread; the soft
    // limit is raised only once the pages to OCR are known (below).
    SetLimit(RLIMIT_CPU, static_cast<rlim_t>(cpu_seconds),
             static_cast<rlim_t>(cpu_seconds + 1 + ocr_budget * ocr_threads));
  }
  if (memory_bytes > 0 && !INGEST_PARSE_CHILD_SANITIZED) {
    SetLimit(RLIMIT_AS, static_cast<rlim_t>(memory_bytes), static_cast<rlim_t>(memory_bytes));
  }
  std::set_new_handler(&OutOfMemory);

  auto it = args.find("path");
  if (it == args.end()) BadArguments("missing path");
  ParseInput input;
  input.path = it->second;
  if (auto f = args.find("filename"); f != args.end()) input.filename = f->second;
  const int64_t type = Int(args, "type");
  if (type < 0 || type > static_cast<int64_t>(DocType::kUnknown)) BadArguments("type");
  input.type = static_cast<DocType>(type);

  LocalParserOptions options;
  options.limits.max_bytes = Int(args, "max_bytes");
  options.limits.max_pages = static_cast<int>(Int(args, "max_pages"));
  options.limits.max_uncompressed_bytes = Int(args, "max_uncompressed_bytes");
  options.limits.max_compression_ratio = Int(args, "max_compression_ratio");
  options.pdf_threads = args.count("pdf_threads") > 0
                            ? static_cast<int>(std::max<int64_t>(1, Int(args, "pdf_threads")))
                            : 1;
  if (ocr) {
    OcrOptions& o = options.ocr;
    o.enabled = true;
    if (auto l = args.find("ocr_languages"); l != args.end()) o.languages = l->second;
    if (auto d = args.find("ocr_tessdata_dir"); d != args.end()) o.tessdata_dir = d->second;
    o.dpi = static_cast<int>(Int(args, "ocr_dpi"));
    o.min_confidence = static_cast<double>(Int(args, "ocr_min_confidence_x10")) / 10.0;
    o.threads = static_cast<int>(ocr_threads);
    o.page_timeout = std::chrono::milliseconds(Int(args, "ocr_page_timeout_ms"));
    o.max_page_pixels = Int(args, "ocr_max_page_pixels");
    o.min_chars_per_page = static_cast<int>(Int(args, "ocr_min_chars_per_page"));
    // Extends the child's wall clock and CPU time by the page timeout per page to OCR, within
    // the budget (contained_parser.h).
    o.before_ocr = [=](int pages) {
      const int64_t per_page = std::max<int64_t>(1, Int(args, "ocr_page_timeout_ms") / 1000);
      const int64_t extra = std::min<int64_t>(ocr_budget, per_page * pages);
      if (wall_seconds > 0) ::alarm(static_cast<unsigned>(wall_seconds + extra));
      if (cpu_seconds > 0) {
        struct rlimit lim {};
        ::getrlimit(RLIMIT_CPU, &lim);
        lim.rlim_cur =
            std::min<rlim_t>(lim.rlim_max, static_cast<rlim_t>(cpu_seconds + extra * ocr_threads));
        ::setrlimit(RLIMIT_CPU, &lim);
      }
    };
  }

  RunTestHook(input.path, memory_bytes);
  Result<ParsedDocument> result = LocalParser(options).Parse(input);
  WriteAll(1, EncodeParseResult(result));
  ::_exit(0);  // skip static destructors: nothing of this process outlives it
}

}  // namespace ingest::parse
