// The validate stage's text rules (DESIGN §1): normalise, then reject empty or garbage output.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/status.h"
#include "ingest/store/types.h"

namespace ingest::text {

struct NormalizeStats {
  size_t invalid_utf8_replaced = 0;  // ill-formed sequences replaced by U+FFFD
  size_t nul_removed = 0;
};

// CRLF/CR -> LF, invalid UTF-8 -> U+FFFD (one per maximal ill-formed subpart), NUL and other
// C0 controls except \t and \n removed, Unicode NFC, trailing spaces trimmed, runs of blank
// lines collapsed to one. Output is valid UTF-8.
std::string NormalizeText(std::string_view in, NormalizeStats* stats = nullptr);

// Checks normalised pages. Fails with kInvalidArgument and reason:
//   "empty_document": no text at all;
//   "no_text_layer": a PDF whose pages carry no text (message says a layout/OCR parser such as
//                    llamaparse is needed);
//   "garbage_text": mostly replacement characters / control or unprintable symbols.
Status ValidateParsedText(std::span<const store::PageText> pages, bool is_pdf);

}  // namespace ingest::text
