// HTML to Markdown with gumbo (an HTML5-conformant, error-tolerant parser).
//
// Keeps what carries meaning for retrieval: headings h1-h6 -> '#'.., paragraphs, lists ("- ",
// "1. ", nested by indentation), pre -> fenced code, inline code, tables -> pipe tables, link
// text (targets dropped), bold/italic. Drops head, script, style, nav, noscript, template,
// svg, iframe, form controls and images. Pure and thread-safe.
//
// Any nesting depth is safe and linear: HTML whose tags nest more than 2000 deep (gumbo's tree
// construction is quadratic in that depth) is converted to plain text paragraphs by a linear
// tag scan instead; below 256 levels of elements a gumbo subtree is kept as plain text (walked
// without recursion); gumbo's tree is freed without its recursive destructor.
#pragma once

#include <string>
#include <string_view>

namespace ingest::parse {

// Never fails: gumbo repairs any input the way browsers do.
std::string HtmlToMarkdown(std::string_view html);

}  // namespace ingest::parse
