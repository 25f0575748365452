// GitHub-flavoured Markdown pipe tables, shared by the HTML and DOCX converters.
// Pure and thread-safe.
#pragma once

#include <string>
#include <vector>

namespace ingest::parse {

// Renders `rows` (the first is the header) as a pipe table without a trailing newline. Cell
// text is kept on one line (newlines become spaces), '|' is escaped, short rows are padded.
// Returns "" when there are no rows or no cells.
std::string RenderPipeTable(const std::vector<std::vector<std::string>>& rows);

}  // namespace ingest::parse
