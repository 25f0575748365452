#include "ingest/parse/local/html_markdown.h"

#include <gtest/gtest.h>

#include "ingest/parse/local/markdown_table.h"

namespace ingest::parse {
namespace {

TEST(HtmlToMarkdownTest, HeadingsParagraphsAndInline) {
  const std::string md = HtmlToMarkdown(
      "<!doctype html><html><head><title>T</title><style>p{}</style></head><body>"
      "<h1>Main  title</h1><p>First <b>bold</b> and <a href='http://x'>a link</a>.</p>"
      "<h3>Sub</h3><p>Second\n   para with <code>x = 1</code> &amp; <em>more</em></p>"
      "</body></html>");
  EXPECT_EQ(md,
            "# Main title\n\nFirst **bold** and a link.\n\n### Sub\n\n"
            "Second para with `x = 1` & *more*");
}

TEST(HtmlToMarkdownTest, SkipsScriptStyleNavNoscript) {
  const std::string md = HtmlToMarkdown(
      "<body><nav><a>Home</a><a>About</a></nav><script>var x = 1;</script>"
      "<noscript>enable js</noscript><p>Body text</p><style>.a{}</style></body>");
  EXPECT_EQ(md, "Body text");
}

TEST(HtmlToMarkdownTest, NestedAndOrderedLists) {
  const std::string md = HtmlToMarkdown(
      "<ul><li>one</li><li>two<ul><li>two a</li><li>two b</li></ul></li></ul>"
      "<ol><li>first</li><li><p>second</p></li></ol>");
  EXPECT_EQ(md, "- one\n- two\n  - two a\n  - two b\n\n1. first\n2. second");
}

TEST(HtmlToMarkdownTest, PreBecomesFencedCodeKeepingWhitespace) {
  const std::string md =
      HtmlToMarkdown("<p>Run:</p><pre><code>for i in 1 2; do\n    echo $i\ndone\n</code></pre>");
  EXPECT_EQ(md, "Run:\n\n```\nfor i in 1 2; do\n    echo $i\ndone\n```");
}

TEST(HtmlToMarkdownTest, TablesBecomePipeTables) {
  const std::string md = HtmlToMarkdown(
      "<table><thead><tr><th>Name</th><th>Value</th></tr></thead>"
      "<tbody><tr><td>a|b</td><td><p>1</p></td></tr><tr><td>c</td></tr></tbody></table>");
  EXPECT_EQ(md, "| Name | Value |\n| --- | --- |\n| a\\|b | 1 |\n| c |  |");
}

TEST(HtmlToMarkdownTest, BrokenHtmlIsRepaired) {
  EXPECT_EQ(HtmlToMarkdown("<p>unclosed <b>bold<p>next"), "unclosed **bold**\n\n**next**");
  EXPECT_EQ(HtmlToMarkdown(""), "");
}

std::string Nested(const std::string& tag, int depth, const std::string& inner) {
  std::string open, close;
  for (int i = 0; i < depth; ++i) {
    open += "<" + tag + ">";
    close += "</" + tag + ">";
  }
  return open + inner + close;
}

// Issue #20: ~550 KB of nested tags segfaulted ingestd (gumbo's recursive destructor) and took
// minutes before that (gumbo's tree construction is quadratic in the depth). Such input is now
// converted by a linear tag scan; its text survives.
TEST(HtmlToMarkdownTest, HundredThousandNestedTagsBecomePlainText) {
  for (const std::string tag : {"div", "span", "b", "ul", "table"}) {
    const std::string html =
        "<html><head><title>T</title><script>var s = '<div>';</script>"
        "</head><body><h1>Title &amp; more</h1>" +
        Nested(tag, 110000, "deep text") + "<p>after</p></body></html>";
    const std::string md = HtmlToMarkdown(html);
    EXPECT_NE(md.find("Title & more"), std::string::npos) << tag << ": " << md.substr(0, 200);
    EXPECT_NE(md.find("deep text"), std::string::npos) << tag;
    EXPECT_NE(md.find("after"), std::string::npos) << tag;
    EXPECT_EQ(md.find("var s"), std::string::npos) << tag;
  }
}

// Between 256 and 2000 levels gumbo still parses; the converter stops recursing at 256 and
// keeps the deeper text flat, and the tree is freed without gumbo's recursive destructor.
TEST(HtmlToMarkdownTest, DeepButParseableNestingKeepsTheText) {
  const std::string md =
      HtmlToMarkdown("<h2>Head</h2>" + Nested("div", 1500, "<p>deep <b>bold</b> text</p>") +
                     Nested("span", 1500, "inline") + Nested("ul", 1000, "<li>item</li>"));
  EXPECT_NE(md.find("## Head"), std::string::npos) << md.substr(0, 300);
  EXPECT_NE(md.find("deep bold text"), std::string::npos) << md.substr(0, 300);
  EXPECT_NE(md.find("inline"), std::string::npos);
  EXPECT_NE(md.find("item"), std::string::npos);
}

// Unclosed <p> and <li> are closed by the tree builder, not nested: such pages stay on the
// gumbo path and keep their structure.
TEST(HtmlToMarkdownTest, ManyUnclosedParagraphsAreNotDeep) {
  std::string html = "<ul>";
  for (int i = 0; i < 3000; ++i) html += "<li>item" + std::to_string(i);
  html += "</ul>";
  for (int i = 0; i < 3000; ++i) html += "<p>para" + std::to_string(i);
  const std::string md = HtmlToMarkdown(html);
  EXPECT_NE(md.find("- item2999\n"), std::string::npos);
  EXPECT_NE(md.find("para1\n\npara2"), std::string::npos);
}

TEST(RenderPipeTableTest, PadsAndEscapes) {
  EXPECT_EQ(RenderPipeTable({{"h1", "h2", "h3"}, {"x"}}),
            "| h1 | h2 | h3 |\n| --- | --- | --- |\n| x |  |  |");
  EXPECT_EQ(RenderPipeTable({{"multi\nline  cell"}}), "| multi line cell |\n| --- |");
  EXPECT_EQ(RenderPipeTable({}), "");
}

}  // namespace
}  // namespace ingest::parse
