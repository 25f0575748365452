// Document metadata (issue 18, docs/documents.md): a flat JSON object the caller attaches to a
// document, inherited by its chunks, returned with search results and matched by filters.
#pragma once

#include <string>
#include <string_view>

#include "ingest/common/result.h"
#include "ingest/store/types.h"

namespace ingest::store {

// Limits on what a document may carry; over them is kInvalidArgument, never a truncation.
inline constexpr size_t kMaxMetadataBytes = 16 * 1024;  // compact JSON text
inline constexpr size_t kMaxMetadataKeys = 64;
inline constexpr size_t kMaxMetadataKeyBytes = 128;
inline constexpr size_t kMaxExternalIdBytes = 1024;

// Checks `text` is a JSON object within the limits whose keys are 1..128 bytes of printable
// characters without '"' or '\' and whose values are strings, numbers, booleans, null or
// arrays of those; returns its compact form (the form stored). kInvalidArgument
// "invalid_metadata" otherwise, saying what is wrong.
Result<std::string> NormalizeMetadata(std::string_view text);

// A key as NormalizeMetadata accepts it (kInvalidArgument "invalid_metadata_key").
Status ValidateMetadataKey(std::string_view key);

// An external_id: 1..1024 bytes, no control characters (kInvalidArgument "invalid_external_id").
Status ValidateExternalId(std::string_view external_id);

// The JSON value a command-line word stands for: a number, true, false or null as JSON reads
// them, a JSON string when the word starts with '"', else the word as a string. "2024" -> 2024,
// "claims" -> "claims", "\"2024\"" -> "2024" (a string). Returns compact JSON text.
std::string ScalarJsonFromWord(std::string_view word);

// "key=value" (value through ScalarJsonFromWord). kInvalidArgument "invalid_filter" without
// '=' or with a bad key.
Result<MetadataEquals> ParseMetadataEquals(std::string_view key_eq_value);

// Sets key (validated) to `value_json` in the metadata object `object_json` (compact form).
Result<std::string> SetMetadataValue(std::string_view object_json, std::string_view key,
                                     std::string_view value_json);

}  // namespace ingest::store
