#include "ingest/parse/contained/contained_parser.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "ingest/obs/log.h"
#include "ingest/parse/contained/parse_child.h"
#include "ingest/parse/contained/parse_wire.h"
#include "ingest/parse/contained/subprocess.h"

namespace ingest::parse {
namespace {

// Room for the frame around the text (magic, lengths, page numbers, detail JSON), so that a
// document whose text is exactly max_output_bytes still fits.
constexpr int64_t kFrameSlack = 1 << 20;

std::string SignalName(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev != nullptr ? "SIG" + std::string(abbrev) : "signal " + std::to_string(sig);
}

double CpuSeconds(const struct rusage& u) {
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The first line of a crash report worth showing an operator (sanitizers print "ERROR: ...",
// the child's own messages start with "ingestd parse:").
std::string StderrSummary(const std::string& err) {
  size_t start = 0;
  while (start < err.size()) {
    size_t end = err.find('\n', start);
    if (end == std::string::npos) end = err.size();
    std::string_view line(err.data() + start, end - start);
    if (line.find("ERROR") != std::string_view::npos ||
        line.find("runtime error") != std::string_view::npos ||
        line.starts_with("ingestd parse:")) {
      return std::string(line.substr(0, 300));
    }
    start = end + 1;
  }
  return err.substr(0, std::min<size_t>(err.find('\n'), 300));
}

}  // namespace

ContainedParser::ContainedParser(ContainedParserOptions options)
    : options_(std::move(options)), local_hash_(LocalParser(options_.local).ConfigHash()) {}

Result<ParsedDocument> ContainedParser::Parse(const ParseInput& input) const {
  const ParseLimits& limits = options_.local.limits;
  const ParseSandboxOptions& sandbox = options_.sandbox;
  std::vector<std::string> argv = {
      sandbox.executable,
      std::string(kParseChildCommand),
      "path=" + input.path,
      "filename=" + input.filename,
      "type=" + std::to_string(static_cast<int>(input.type)),
      "max_bytes=" + std::to_string(limits.max_bytes),
      "max_pages=" + std::to_string(limits.max_pages),
      "max_uncompressed_bytes=" + std::to_string(limits.max_uncompressed_bytes),
      "max_compression_ratio=" + std::to_string(limits.max_compression_ratio),
      "pdf_threads=" + std::to_string(options_.local.pdf_threads),
      "cpu_seconds=" + std::to_string(sandbox.cpu_seconds),
      "memory_bytes=" + std::to_string(sandbox.memory_bytes),
      "parent_pid=" + std::to_string(::getpid()),
      "wall_seconds=" + std::to_string((sandbox.timeout.count() + 999) / 1000),
  };
  const OcrOptions& ocr = options_.local.ocr;
  std::chrono::milliseconds wall = sandbox.timeout;
  if (ocr.enabled) {
    wall += sandbox.ocr_budget;
    for (std::string a : std::initializer_list<std::string>{
             "ocr=1", "ocr_languages=" + ocr.languages, "ocr_dpi=" + std::to_string(ocr.dpi),
             "ocr_min_confidence_x10=" +
                 std::to_string(static_cast<int64_t>(ocr.min_confidence * 10)),
             "ocr_threads=" + std::to_string(ocr.threads),
             "ocr_page_timeout_ms=" + std::to_string(ocr.page_timeout.count()),
             "ocr_max_page_pixels=" + std::to_string(ocr.max_page_pixels),
             "ocr_min_chars_per_page=" + std::to_string(ocr.min_chars_per_page),
             "ocr_tessdata_dir=" + ocr.tessdata_dir,
             "ocr_budget_seconds=" + std::to_string(sandbox.ocr_budget.count() / 1000)}) {
      argv.push_back(std::move(a));
    }
  }
  SubprocessLimits run_limits;
  run_limits.wall = wall;
  run_limits.max_stdout_bytes = sandbox.max_output_bytes + kFrameSlack;
  INGEST_ASSIGN_OR_RETURN(SubprocessRun run, RunSubprocess(argv, run_limits));

  const double cpu = CpuSeconds(run.usage);
  const int64_t peak_rss = static_cast<int64_t>(run.usage.ru_maxrss) * 1024;
  nlohmann::json facts = {{"job_id", input.job_id},
                          {"file", input.filename},
                          {"elapsed_ms", run.elapsed.count()},
                          {"cpu_s", cpu},
                          {"peak_rss_bytes", peak_rss}};
  auto contained = [&](Status status) -> Status {
    facts["code"] = status.reason();
    if (!run.err.empty()) facts["child_stderr"] = StderrSummary(run.err);
    obs::LogWarn("parse subprocess failed; the document fails, nothing else is affected", facts);
    return status;
  };

  if (run.stdout_overflow) {
    return contained(ResourceExhausted(
        "the parser produced more than " + std::to_string(sandbox.max_output_bytes) +
            " bytes of text (parse.max_output_bytes) and was stopped",
        "parse_too_large"));
  }
  if (run.killed_at_deadline ||
      (WIFSIGNALED(run.wait_status) && WTERMSIG(run.wait_status) == SIGALRM)) {
    return contained(ResourceExhausted(
        "parsing took longer than " + std::to_string(sandbox.timeout.count() / 1000) +
            " s (parse.timeout_s" +
            (ocr.enabled ? ", plus parse.ocr_page_timeout_s per OCR'd page up to "
                           "parse.ocr_budget_s"
                         : "") +
            ") and was stopped",
        "parse_timeout"));
  }
  if (WIFSIGNALED(run.wait_status)) {
    const int sig = WTERMSIG(run.wait_status);
    // RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL at the hard one.
    if (sig == SIGXCPU ||
        (sig == SIGKILL && sandbox.cpu_seconds > 0 && cpu >= sandbox.cpu_seconds - 0.05)) {
      return contained(ResourceExhausted("parsing used more than " +
                                             std::to_string(sandbox.cpu_seconds) +
                                             " s of CPU time (parse.cpu_limit_s) and was stopped",
                                         "parse_timeout"));
    }
    // Allocation failures in C libraries surface as crashes (a NULL from malloc followed);
    // one that happened with the address space nearly full was memory, not a bug.
    if (sandbox.memory_bytes > 0 && peak_rss >= sandbox.memory_bytes / 4 * 3) {
      return contained(
          ResourceExhausted("the parser ran out of memory (parse.memory_limit_mb) and was stopped",
                            "parse_too_large"));
    }
    return contained(Internal("the parser crashed on this document (" + SignalName(sig) +
                                  "); it ran in its own process, nothing else was affected",
                              "parse_crashed"));
  }
  const int exit_code = WIFEXITED(run.wait_status) ? WEXITSTATUS(run.wait_status) : -1;
  if (exit_code == kParseChildOutOfMemory) {
    return contained(ResourceExhausted(
        "the parser ran out of memory (over parse.memory_limit_mb) and was stopped",
        "parse_too_large"));
  }
  if (exit_code == 0) {
    if (std::optional<Result<ParsedDocument>> result = DecodeParseResult(run.out)) {
      return std::move(*result);
    }
  }
  return contained(Internal("the parser exited with code " + std::to_string(exit_code) +
                                " without a result; it ran in its own process, nothing else "
                                "was affected",
                            "parse_crashed"));
}

}  // namespace ingest::parse
