#include "ingest/parse/local/html_markdown.h"

#include <gumbo.h>

#include <vector>

#include "ingest/parse/local/markdown_table.h"

namespace ingest::parse {
namespace {

bool IsSkipped(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_IMG:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_BUTTON:
    case GUMBO_TAG_INPUT:
    case GUMBO_TAG_TEXTAREA:
      return true;
    default:
      return false;
  }
}

int HeadingLevel(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_H1:
      return 1;
    case GUMBO_TAG_H2:
      return 2;
    case GUMBO_TAG_H3:
      return 3;
    case GUMBO_TAG_H4:
      return 4;
    case GUMBO_TAG_H5:
      return 5;
    case GUMBO_TAG_H6:
      return 6;
    default:
      return 0;
  }
}

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f'; }

std::string Trim(std::string s) {
  size_t b = 0;
  while (b < s.size() && IsSpace(s[b])) ++b;
  size_t e = s.size();
  while (e > b && IsSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// HTML whitespace collapsing: runs of whitespace become one space, none at a line start.
void AppendCollapsed(std::string_view text, std::string* buf) {
  for (char c : text) {
    if (IsSpace(c)) {
      if (!buf->empty() && buf->back() != ' ' && buf->back() != '\n') buf->push_back(' ');
    } else {
      buf->push_back(c);
    }
  }
}

const GumboVector& Children(const GumboNode* n) {
  return n->type == GUMBO_NODE_DOCUMENT ? n->v.document.children : n->v.element.children;
}

template <typename F>
void ForEachChild(const GumboNode* n, F&& f) {
  const GumboVector& kids = Children(n);
  for (unsigned i = 0; i < kids.length; ++i) f(static_cast<const GumboNode*>(kids.data[i]));
}

bool IsElement(const GumboNode* n) { return n->type == GUMBO_NODE_ELEMENT; }
bool IsTextLike(const GumboNode* n) {
  return n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE ||
         n->type == GUMBO_NODE_CDATA;
}

void RawText(const GumboNode* n, std::string* out) {
  if (IsTextLike(n)) {
    out->append(n->v.text.text);
  } else if (IsElement(n)) {
    if (n->v.element.tag == GUMBO_TAG_BR) out->push_back('\n');
    ForEachChild(n, [&](const GumboNode* c) { RawText(c, out); });
  }
}

class Converter {
 public:
  std::string Run(const GumboNode* root) {
    Block(root);
    FlushParagraph();
    while (!out_.empty() && IsSpace(out_.back())) out_.pop_back();
    return out_;
  }

 private:
  void FlushParagraph() {
    std::string p = Trim(std::move(para_));
    para_.clear();
    if (!p.empty()) EmitBlock(p);
  }

  void EmitBlock(const std::string& s) {
    out_ += s;
    out_ += "\n\n";
  }

  std::string InlineOf(const GumboNode* n) {
    std::string buf;
    ForEachChild(n, [&](const GumboNode* c) { Inline(c, &buf); });
    return Trim(std::move(buf));
  }

  void Inline(const GumboNode* n, std::string* buf) {
    if (IsTextLike(n)) {
      AppendCollapsed(n->v.text.text, buf);
      return;
    }
    if (!IsElement(n)) return;
    const GumboTag tag = n->v.element.tag;
    if (IsSkipped(tag)) return;
    auto wrap = [&](std::string_view mark) {
      const std::string inner = InlineOf(n);
      if (inner.empty()) return;
      buf->append(mark).append(inner).append(mark);
    };
    switch (tag) {
      case GUMBO_TAG_BR:
        buf->push_back('\n');
        return;
      case GUMBO_TAG_CODE:
      case GUMBO_TAG_KBD:
      case GUMBO_TAG_SAMP:
        wrap("`");
        return;
      case GUMBO_TAG_STRONG:
      case GUMBO_TAG_B:
        wrap("**");
        return;
      case GUMBO_TAG_EM:
      case GUMBO_TAG_I:
        wrap("*");
        return;
      default:
        break;
    }
    // Block elements met in inline context (a <p> inside an <li> or a cell) separate words.
    ForEachChild(n, [&](const GumboNode* c) { Inline(c, buf); });
    if (!IsInlineTag(tag) && !buf->empty() && !IsSpace(buf->back())) buf->push_back(' ');
  }

  static bool IsInlineTag(GumboTag t) {
    switch (t) {
      case GUMBO_TAG_A:
      case GUMBO_TAG_SPAN:
      case GUMBO_TAG_ABBR:
      case GUMBO_TAG_SUB:
      case GUMBO_TAG_SUP:
      case GUMBO_TAG_U:
      case GUMBO_TAG_S:
      case GUMBO_TAG_SMALL:
      case GUMBO_TAG_BIG:
      case GUMBO_TAG_MARK:
      case GUMBO_TAG_Q:
      case GUMBO_TAG_CITE:
      case GUMBO_TAG_DFN:
      case GUMBO_TAG_TIME:
      case GUMBO_TAG_VAR:
      case GUMBO_TAG_FONT:
      case GUMBO_TAG_LABEL:
        return true;
      default:
        return false;
    }
  }

  void Block(const GumboNode* n) {
    if (IsTextLike(n)) {
      AppendCollapsed(n->v.text.text, &para_);
      return;
    }
    if (n->type == GUMBO_NODE_DOCUMENT) {
      ForEachChild(n, [&](const GumboNode* c) { Block(c); });
      return;
    }
    if (!IsElement(n)) return;
    const GumboTag tag = n->v.element.tag;
    if (IsSkipped(tag)) return;
    if (const int level = HeadingLevel(tag); level > 0) {
      FlushParagraph();
      const std::string text = InlineOf(n);
      if (!text.empty()) EmitBlock(std::string(static_cast<size_t>(level), '#') + " " + text);
      return;
    }
    switch (tag) {
      case GUMBO_TAG_UL:
      case GUMBO_TAG_OL:
        FlushParagraph();
        List(n, 0);
        out_ += "\n";
        return;
      case GUMBO_TAG_PRE: {
        FlushParagraph();
        std::string code;
        RawText(n, &code);
        while (!code.empty() && code.back() == '\n') code.pop_back();
        if (!code.empty()) EmitBlock("```\n" + code + "\n```");
        return;
      }
      case GUMBO_TAG_TABLE: {
        FlushParagraph();
        std::vector<std::vector<std::string>> rows;
        CollectRows(n, &rows);
        const std::string table = RenderPipeTable(rows);
        if (!table.empty()) EmitBlock(table);
        return;
      }
      case GUMBO_TAG_HR:
        FlushParagraph();
        EmitBlock("---");
        return;
      case GUMBO_TAG_BR:
        para_.push_back('\n');
        return;
      default:
        break;
    }
    if (IsInlineTag(tag) || tag == GUMBO_TAG_CODE || tag == GUMBO_TAG_STRONG ||
        tag == GUMBO_TAG_B || tag == GUMBO_TAG_EM || tag == GUMBO_TAG_I) {
      Inline(n, &para_);
      return;
    }
    // Any other element is a block container: its content is a paragraph of its own.
    FlushParagraph();
    ForEachChild(n, [&](const GumboNode* c) { Block(c); });
    FlushParagraph();
  }

  void List(const GumboNode* list, int depth) {
    const bool ordered = list->v.element.tag == GUMBO_TAG_OL;
    int number = 1;
    ForEachChild(list, [&](const GumboNode* li) {
      if (!IsElement(li)) return;
      if (li->v.element.tag == GUMBO_TAG_UL || li->v.element.tag == GUMBO_TAG_OL) {
        List(li, depth + 1);  // a list directly inside a list (invalid but common)
        return;
      }
      if (li->v.element.tag != GUMBO_TAG_LI) return;
      const std::string marker = ordered ? std::to_string(number++) + ". " : "- ";
      const std::string indent(static_cast<size_t>(depth) * 2, ' ');
      std::string item;
      bool emitted = false;
      auto emit = [&] {
        std::string text = Trim(item);
        item.clear();
        if (text.empty() && emitted) return;
        for (char& c : text) {
          if (c == '\n') c = ' ';
        }
        out_ +=
            (emitted ? indent + std::string(marker.size(), ' ') : indent + marker) + text + "\n";
        emitted = true;
      };
      ForEachChild(li, [&](const GumboNode* c) {
        if (IsElement(c) &&
            (c->v.element.tag == GUMBO_TAG_UL || c->v.element.tag == GUMBO_TAG_OL)) {
          emit();
          List(c, depth + 1);
        } else {
          Inline(c, &item);
        }
      });
      if (!emitted || !Trim(item).empty()) emit();
    });
  }

  void CollectRows(const GumboNode* n, std::vector<std::vector<std::string>>* rows) {
    ForEachChild(n, [&](const GumboNode* c) {
      if (!IsElement(c)) return;
      const GumboTag tag = c->v.element.tag;
      if (tag == GUMBO_TAG_THEAD || tag == GUMBO_TAG_TBODY || tag == GUMBO_TAG_TFOOT) {
        CollectRows(c, rows);
      } else if (tag == GUMBO_TAG_TR) {
        std::vector<std::string> cells;
        ForEachChild(c, [&](const GumboNode* cell) {
          if (IsElement(cell) &&
              (cell->v.element.tag == GUMBO_TAG_TD || cell->v.element.tag == GUMBO_TAG_TH)) {
            cells.push_back(InlineOf(cell));
          }
        });
        if (!cells.empty()) rows->push_back(std::move(cells));
      }
    });
  }

  std::string out_;
  std::string para_;
};

}  // namespace

std::string HtmlToMarkdown(std::string_view html) {
  GumboOutput* output = gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size());
  std::string md = Converter().Run(output->document);
  gumbo_destroy_output(&kGumboDefaultOptions, output);
  return md;
}

}  // namespace ingest::parse
