#include "ingest/parse/local/html_markdown.h"

#include <gumbo.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <utility>
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

// Visits the text of `root`'s subtree in document order without recursion (an explicit stack
// of child positions), so any nesting depth costs heap, not stack. `br` elements call
// on_br; `skip_hidden` leaves out the subtrees of IsSkipped elements.
template <typename OnText, typename OnBr>
void WalkText(const GumboNode* root, bool skip_hidden, OnText&& on_text, OnBr&& on_br) {
  struct Frame {
    const GumboNode* node;
    unsigned next;
  };
  std::vector<Frame> stack;
  auto enter = [&](const GumboNode* n) {
    if (IsTextLike(n)) {
      on_text(std::string_view(n->v.text.text));
    } else if (n->type == GUMBO_NODE_DOCUMENT) {
      stack.push_back({n, 0});
    } else if (IsElement(n)) {
      if (n->v.element.tag == GUMBO_TAG_BR) on_br();
      if (!skip_hidden || !IsSkipped(n->v.element.tag)) stack.push_back({n, 0});
    }
  };
  enter(root);
  while (!stack.empty()) {
    Frame& top = stack.back();
    const GumboVector& kids = Children(top.node);
    if (top.next >= kids.length) {
      stack.pop_back();
      continue;
    }
    enter(static_cast<const GumboNode*>(kids.data[top.next++]));
  }
}

void RawText(const GumboNode* n, std::string* out) {
  WalkText(
      n, /*skip_hidden=*/false, [&](std::string_view t) { out->append(t); },
      [&] { out->push_back('\n'); });
}

// Beyond this element depth the converter stops recursing and keeps the subtree's text as
// plain collapsed text (WalkText): no real document nests formatting this deep, and a hostile
// one (hundreds of thousands of nested tags) must not overflow the stack.
constexpr int kMaxNesting = 256;

class Converter {
 public:
  std::string Run(const GumboNode* root) {
    Block(root);
    FlushParagraph();
    while (!out_.empty() && IsSpace(out_.back())) out_.pop_back();
    return out_;
  }

 private:
  // Counts the converter's recursion depth for as long as it lives.
  class Nesting {
   public:
    explicit Nesting(int* depth) : depth_(depth) { ++*depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;
    ~Nesting() { --*depth_; }
    bool too_deep() const { return *depth_ > kMaxNesting; }

   private:
    int* depth_;
  };

  static void FlatText(const GumboNode* n, std::string* buf) {
    WalkText(
        n, /*skip_hidden=*/true, [&](std::string_view t) { AppendCollapsed(t, buf); },
        [&] { buf->push_back('\n'); });
  }

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
    Nesting nesting(&depth_);
    if (nesting.too_deep()) {
      FlatText(n, buf);
      return;
    }
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
    Nesting nesting(&depth_);
    if (nesting.too_deep()) {
      FlatText(n, &para_);
      return;
    }
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
    Nesting nesting(&depth_);
    if (nesting.too_deep()) {
      std::string text;
      FlatText(list, &text);
      text = Trim(std::move(text));
      if (!text.empty()) out_ += text + "\n";
      return;
    }
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
    Nesting nesting(&depth_);
    if (nesting.too_deep()) return;  // only thead/tbody/tfoot recurse here, 256 deep
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
  int depth_ = 0;
};

// Gumbo's allocations, tracked so they can all be freed without gumbo_destroy_output: gumbo
// 0.10's destroy_node recurses once per tree level, and a document of a few hundred KB of
// nested tags overflows any thread's stack when it is freed (it was the segfault in issue
// #20). Each block carries a header linking it into a list; the deallocator unlinks, FreeAll
// frees what is left. alignof(max_align_t) keeps malloc's alignment for the caller.
class GumboHeap {
 public:
  GumboHeap() { head_.prev = head_.next = &head_; }
  GumboHeap(const GumboHeap&) = delete;
  GumboHeap& operator=(const GumboHeap&) = delete;
  ~GumboHeap() { FreeAll(); }

  static void* Allocate(void* userdata, size_t size) {
    auto* heap = static_cast<GumboHeap*>(userdata);
    void* raw = std::malloc(sizeof(Header) + size);
    if (raw == nullptr) {
      // Gumbo does not check for NULL. The parse subprocess installs a new-handler that exits
      // with "out of memory" (parse_too_large); without one there is nothing safe to do.
      if (std::new_handler h = std::get_new_handler()) h();
      std::abort();
    }
    auto* h = static_cast<Header*>(raw);
    h->next = heap->head_.next;
    h->prev = &heap->head_;
    heap->head_.next->prev = h;
    heap->head_.next = h;
    return h + 1;
  }
  static void Deallocate(void* /*userdata*/, void* ptr) {
    if (ptr == nullptr) return;
    Header* h = static_cast<Header*>(ptr) - 1;
    h->prev->next = h->next;
    h->next->prev = h->prev;
    std::free(h);
  }
  void FreeAll() {
    Header* h = head_.next;
    while (h != &head_) {
      Header* next = h->next;
      std::free(h);
      h = next;
    }
    head_.prev = head_.next = &head_;
  }

 private:
  struct alignas(alignof(std::max_align_t)) Header {
    Header* prev;
    Header* next;
  };
  Header head_;
};

// ---- Deeply nested HTML ----
//
// Gumbo's tree construction is quadratic in the depth of open elements (every start tag asks
// whether a <p> is "in button scope", a scan down the whole stack), so ~110k nested <div>s
// (550 KB) take minutes. No real page nests thousands of elements deep, so such input is
// recognised by a linear scan of its tags and converted without gumbo, as plain text.

constexpr size_t kMaxHtmlDepth = 2000;

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Elements that never nest: void elements, and those the tree builder closes implicitly when a
// sibling starts (so a page full of unclosed <p> or <li> is not "deep").
bool NeverNests(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "area",    "base",  "br",     "col",    "embed",    "hr",    "img",   "input", "link",
      "meta",    "param", "source", "track",  "wbr",      "p",     "li",    "dt",    "dd",
      "tr",      "td",    "th",     "option", "optgroup", "thead", "tbody", "tfoot", "colgroup",
      "caption", "rb",    "rt",     "rp",     "rtc",      "html",  "head",  "body",  "basefont",
      "bgsound", "frame", "keygen", "image",  "isindex"};
  for (std::string_view n : kNames) {
    if (n == name) return true;
  }
  return false;
}

// Raw-text elements whose content is not markup.
bool IsRawText(std::string_view name) {
  return name == "script" || name == "style" || name == "textarea" || name == "title" ||
         name == "xmp" || name == "iframe" || name == "noembed" || name == "noframes" ||
         name == "plaintext";
}

// Position just past the case-insensitive "</name" that ends a raw-text element, or npos.
size_t FindRawTextEnd(std::string_view html, size_t from, std::string_view name) {
  for (size_t pos = html.find("</", from); pos != std::string_view::npos;
       pos = html.find("</", pos + 2)) {
    size_t k = 0;
    while (k < name.size() && pos + 2 + k < html.size() && Lower(html[pos + 2 + k]) == name[k]) {
      ++k;
    }
    if (k == name.size()) return pos + 2 + k;
  }
  return std::string_view::npos;
}

// One pass over the tags of `html`: calls on_text(text) for character data, on_tag(name,
// is_end) for each tag (name lower-cased, truncated to 16 bytes). Comments, doctypes and
// raw-text element bodies are skipped. Linear in the input.
template <typename OnText, typename OnTag>
void ScanTags(std::string_view html, OnText&& on_text, OnTag&& on_tag) {
  size_t i = 0;
  while (i < html.size()) {
    const size_t lt = html.find('<', i);
    if (lt == std::string_view::npos) {
      on_text(html.substr(i));
      return;
    }
    if (lt > i) on_text(html.substr(i, lt - i));
    if (html.compare(lt, 4, "<!--") == 0) {
      const size_t end = html.find("-->", lt + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    const bool is_end = lt + 1 < html.size() && html[lt + 1] == '/';
    size_t n = lt + (is_end ? 2 : 1);
    if (n >= html.size() || !IsAsciiAlpha(html[n])) {
      if (n < html.size() && (html[n] == '!' || html[n] == '?')) {  // doctype, processing
        const size_t end = html.find('>', n);
        i = end == std::string_view::npos ? html.size() : end + 1;
      } else {
        on_text(html.substr(lt, 1));  // a literal '<'
        i = lt + 1;
      }
      continue;
    }
    std::string name;
    while (n < html.size() && (IsAsciiAlpha(html[n]) || (html[n] >= '0' && html[n] <= '9'))) {
      if (name.size() < 16) name.push_back(Lower(html[n]));
      ++n;
    }
    // The tag ends at the first '>' outside a quoted attribute value.
    char quote = 0;
    while (n < html.size() && (quote != 0 || html[n] != '>')) {
      if (quote != 0) {
        if (html[n] == quote) quote = 0;
      } else if (html[n] == '"' || html[n] == '\'') {
        quote = html[n];
      }
      ++n;
    }
    const bool self_closing = n > 0 && n < html.size() && html[n - 1] == '/';
    i = n < html.size() ? n + 1 : html.size();
    on_tag(std::string_view(name), is_end, self_closing);
    if (!is_end && IsRawText(name)) {
      const size_t end = FindRawTextEnd(html, i, name);
      if (name == "title" || name == "textarea") {
        on_text(html.substr(
            i, (end == std::string_view::npos ? html.size() : end - name.size() - 2) - i));
      }
      if (end == std::string_view::npos) return;
      const size_t gt = html.find('>', end);
      i = gt == std::string_view::npos ? html.size() : gt + 1;
      on_tag(std::string_view(name), true, false);
    }
  }
}

// The deepest nesting the tags imply, counting only elements that can nest; stops counting at
// `limit`.
size_t TagDepth(std::string_view html, size_t limit) {
  size_t depth = 0, deepest = 0;
  ScanTags(
      html, [](std::string_view) {},
      [&](std::string_view name, bool is_end, bool self_closing) {
        if (self_closing || NeverNests(name)) return;
        if (is_end) {
          if (depth > 0) --depth;
        } else if (++depth > deepest) {
          deepest = std::min(depth, limit + 1);
        }
      });
  return deepest;
}

bool IsBlockTag(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "p",          "div",    "br",         "li",      "ul",   "ol",     "h1",      "h2",
      "h3",         "h4",     "h5",         "h6",      "tr",   "table",  "section", "article",
      "blockquote", "pre",    "hr",         "dt",      "dd",   "header", "footer",  "main",
      "aside",      "figure", "figcaption", "address", "title"};
  for (std::string_view n : kNames) {
    if (n == name) return true;
  }
  return false;
}

// The text of `html` without gumbo: character data with whitespace collapsed, a paragraph
// break at block-level tags, hidden elements (script, style, ...) left out, the five basic
// character references decoded. Linear in the input, constant stack.
std::string PlainTextFromHtml(std::string_view html) {
  std::string out;
  std::string para;
  int hidden = 0;  // depth inside script/style/template/svg/... whose text is not content
  auto flush = [&] {
    std::string p = Trim(std::move(para));
    para.clear();
    if (p.empty()) return;
    out += p;
    out += "\n\n";
  };
  ScanTags(
      html,
      [&](std::string_view text) {
        if (hidden > 0) return;
        size_t i = 0;
        while (i < text.size()) {
          const size_t amp = text.find('&', i);
          AppendCollapsed(text.substr(i, amp == std::string_view::npos ? amp : amp - i), &para);
          if (amp == std::string_view::npos) break;
          static constexpr std::pair<std::string_view, char> kRefs[] = {
              {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
          i = amp + 1;
          char decoded = '&';
          for (const auto& [ref, ch] : kRefs) {
            if (text.compare(amp, ref.size(), ref) == 0) {
              decoded = ch;
              i = amp + ref.size();
              break;
            }
          }
          para.push_back(decoded);
        }
      },
      [&](std::string_view name, bool is_end, bool self_closing) {
        const bool skipped = name == "script" || name == "style" || name == "template" ||
                             name == "svg" || name == "noscript" || name == "head" ||
                             name == "select" || name == "button";
        if (skipped && !self_closing) {
          hidden = is_end ? std::max(0, hidden - 1) : hidden + 1;
          return;
        }
        if (IsBlockTag(name)) flush();
      });
  flush();
  while (!out.empty() && IsSpace(out.back())) out.pop_back();
  return out;
}

}  // namespace

std::string HtmlToMarkdown(std::string_view html) {
  if (TagDepth(html, kMaxHtmlDepth) > kMaxHtmlDepth) return PlainTextFromHtml(html);
  GumboHeap heap;
  GumboOptions options = kGumboDefaultOptions;
  options.allocator = &GumboHeap::Allocate;
  options.deallocator = &GumboHeap::Deallocate;
  options.userdata = &heap;
  // Parse errors are not used; recording one per bad token is memory a hostile page could fill.
  options.max_errors = 0;
  GumboOutput* output = gumbo_parse_with_options(&options, html.data(), html.size());
  std::string md = Converter().Run(output->document);
  // No gumbo_destroy_output (see GumboHeap): `heap` frees every block when it goes out of scope.
  return md;
}

}  // namespace ingest::parse
