// The bytes a parse subprocess (parse_child.h) writes to its stdout and ContainedParser reads
// back: one Result<ParsedDocument>, framed so that a child that dies half-way through writing
// is told apart from one that finished.
//
// Layout (native byte order: both ends are the same binary on the same machine):
//   "INGESTD-PARSE/1\n"
//   'D' u8 type, str parser, str detail_json, u64 n, n x (i32 page, str text)   -- a document
//   'E' u32 status code, str reason, str message                                -- an error
//   "END\n"
// where str is u64 length + bytes. Page text is arbitrary bytes (NULs, invalid UTF-8) and is
// round-tripped exactly, page numbers included.
//
// Thread-safe: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ingest/common/result.h"
#include "ingest/parse/parser.h"

namespace ingest::parse {

std::string EncodeParseResult(const Result<ParsedDocument>& result);

// The child's result (its document, or the error it reported), or nullopt when `bytes` is not
// one complete, well-formed frame (the child crashed or was killed while writing).
std::optional<Result<ParsedDocument>> DecodeParseResult(std::string_view bytes);

}  // namespace ingest::parse
