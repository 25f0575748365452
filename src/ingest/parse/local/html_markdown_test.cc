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

TEST(RenderPipeTableTest, PadsAndEscapes) {
  EXPECT_EQ(RenderPipeTable({{"h1", "h2", "h3"}, {"x"}}),
            "| h1 | h2 | h3 |\n| --- | --- | --- |\n| x |  |  |");
  EXPECT_EQ(RenderPipeTable({{"multi\nline  cell"}}), "| multi line cell |\n| --- |");
  EXPECT_EQ(RenderPipeTable({}), "");
}

}  // namespace
}  // namespace ingest::parse
