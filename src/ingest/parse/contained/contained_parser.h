// ContainedParser: the local parser, run in a supervised subprocess per document, so that a
// hostile or broken file can end only its own parse attempt (DESIGN §11).
//
// Each Parse() spawns `executable` (normally the ingestd binary itself, /proc/self/exe, with
// the hidden subcommand kParseChildCommand; see parse_child.h) with the document's path and
// the parse limits on its command line. The child limits itself before it reads a byte
// (RLIMIT_CPU, RLIMIT_AS, no core dumps, no file writes), parses with LocalParser and writes
// the result to its stdout (parse_wire.h). The parent reads it under a wall-clock deadline and
// an output cap (subprocess.h), and maps whatever happened to one Status:
//
//   child reported a result or a parse error   -> that result / error, unchanged
//   killed at the wall deadline, or out of CPU -> resource_exhausted[parse_timeout]
//   (the child's own SIGALRM at timeout_s, too)
//   ran out of memory (RLIMIT_AS)              -> resource_exhausted[parse_too_large]
//   wrote more than max_output_bytes           -> resource_exhausted[parse_too_large]
//   died on a signal or exited without a result-> internal[parse_crashed]
//   could not be started (fork/exec failed)    -> unavailable[parse_spawn_failed]
//
// parse_timeout, parse_too_large and parse_crashed are permanent failures (governor/
// retry_policy.h): the parser is deterministic, so a second attempt on the same bytes would
// crash or hang the same way and only multiply what a hostile upload costs. An operator can
// still `ingestd jobs retry` the job (e.g. after raising a limit). parse_spawn_failed is the
// machine's fault, not the document's, and is retried with backoff.
//
// The output is byte-for-byte what LocalParser returns in-process (pages, page numbers, type,
// parser name and detail), and Name()/ConfigHash() are LocalParser's, so the parse cache is
// shared between contained and in-process parsing.
//
// Thread-safe: Parse() is const; concurrent calls run concurrent children.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/parse/local/local_parser.h"
#include "ingest/parse/parser.h"

namespace ingest::parse {

// argv[1] of the parse subprocess (cli.cc dispatches it before any other argument parsing).
inline constexpr std::string_view kParseChildCommand = "__parse-document";

struct ParseSandboxOptions {
  // A binary whose main hands argv to RunParseChild when argv[1] is kParseChildCommand.
  // ingestd uses "/proc/self/exe": the kernel resolves it to the running binary's inode, so a
  // binary replaced on disk by an upgrade still spawns the same version as the parent.
  std::string executable = "/proc/self/exe";
  std::chrono::milliseconds timeout{120000};  // wall clock, then SIGKILL
  int cpu_seconds = 120;                      // RLIMIT_CPU of the child
  int64_t memory_bytes = 2048ll << 20;        // RLIMIT_AS of the child
  int64_t max_output_bytes = 256ll << 20;     // text (all pages) the child may hand back
  // OCR (local.ocr.enabled): extra wall-clock and CPU time a document that needs OCR may use
  // on top of timeout/cpu_seconds. The child stays bounded by timeout/cpu_seconds until it
  // knows how many pages it will OCR, then extends its own limits by page_timeout per page
  // (times the OCR threads for CPU), never past this budget; the parent's deadline is
  // timeout + ocr_budget.
  std::chrono::milliseconds ocr_budget{1800000};
};

struct ContainedParserOptions {
  LocalParserOptions local;
  ParseSandboxOptions sandbox;
};

class ContainedParser final : public Parser {
 public:
  explicit ContainedParser(ContainedParserOptions options);

  std::string_view Name() const override { return "local"; }
  std::string ConfigHash() const override { return local_hash_; }
  Result<ParsedDocument> Parse(const ParseInput& input) const override;

 private:
  ContainedParserOptions options_;
  std::string local_hash_;
};

}  // namespace ingest::parse
