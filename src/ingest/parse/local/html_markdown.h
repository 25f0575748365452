// HTML to Markdown with gumbo (an HTML5-conformant, error-tolerant parser).
//
// Keeps what carries meaning for retrieval: headings h1-h6 -> '#'.., paragraphs, lists ("- ",
// "1. ", nested by indentation), pre -> fenced code, inline code, tables -> pipe tables, link
// text (targets dropped), bold/italic. Drops head, script, style, nav, noscript, template,
// svg, iframe, form controls and images. Pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace ingest::parse {

// Never fails: gumbo repairs any input the way browsers do.
std::string HtmlToMarkdown(std::string_view html);

}  // namespace ingest::parse
