// The parse subprocess: the child half of ContainedParser (contained_parser.h).
//
// `ingestd __parse-document key=value...` parses one document with LocalParser and writes the
// result to stdout (parse_wire.h). Before it reads the document it makes itself a poor target:
// it dies with its parent (PR_SET_PDEATHSIG), caps its CPU time and address space, writes no
// core dumps and cannot create or grow files. Running out of memory exits with
// kParseChildOutOfMemory so the parent can say parse_too_large rather than parse_crashed.
//
// Keys (all required unless noted): path, filename, type (DocType as a number), max_bytes,
// max_pages, max_uncompressed_bytes, max_compression_ratio, cpu_seconds, memory_bytes,
// parent_pid.
//
// Test hooks: only when the environment has INGESTD_TEST_HOOKS=1, a document whose first line
// is "INGESTD-TEST-HOOK:<action>" makes the child misbehave on purpose, so tests can exercise
// every containment path with a real process: crash (SIGSEGV), abort, stack (unbounded
// recursion), hang (ignores SIGTERM and sleeps), spin (ignores SIGTERM and burns CPU), oom
// (allocates until the limit), flood (writes output forever), exit (exits 3 without a result).
#pragma once

namespace ingest::parse {

inline constexpr int kParseChildOutOfMemory = 86;
inline constexpr int kParseChildBadArguments = 87;

// argv[0] is the subcommand name (kParseChildCommand); returns the exit code (most paths
// _exit directly).
int RunParseChild(int argc, char** argv);

}  // namespace ingest::parse
