#include "ingest/parse/local/docx_markdown.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <pugixml.hpp>
#include <vector>

#include "ingest/parse/local/markdown_table.h"
#include "ingest/parse/zip_archive.h"

namespace ingest::parse {
namespace {

// Element name without its namespace prefix: Word always writes "w:", other producers may not.
std::string_view LocalName(const pugi::xml_node& n) {
  std::string_view name = n.name();
  const size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node Child(const pugi::xml_node& n, std::string_view local) {
  for (pugi::xml_node c : n.children()) {
    if (LocalName(c) == local) return c;
  }
  return {};
}

std::string_view Attr(const pugi::xml_node& n, std::string_view local) {
  for (pugi::xml_attribute a : n.attributes()) {
    std::string_view name = a.name();
    const size_t colon = name.find(':');
    if ((colon == std::string_view::npos ? name : name.substr(colon + 1)) == local) {
      return a.value();
    }
  }
  return {};
}

// The visible text under `n`, in document order. Iterative: `open` holds the elements entered
// so far, and a hostile document.xml nested a million levels deep costs heap, not stack.
void RunText(const pugi::xml_node& n, std::string* out) {
  std::vector<pugi::xml_node> open;
  pugi::xml_node c = n.first_child();
  for (;;) {
    if (!c) {
      if (open.empty()) return;
      c = open.back().next_sibling();
      open.pop_back();
      continue;
    }
    if (c.type() == pugi::node_element) {
      const std::string_view name = LocalName(c);
      if (name == "t") {
        out->append(c.child_value());
      } else if (name == "tab") {
        out->push_back('\t');
      } else if (name == "br" || name == "cr") {
        out->push_back('\n');
      } else if (name == "del" || name == "delText" || name == "instrText" || name == "pPr" ||
                 name == "rPr") {
        // Deleted revisions, field codes and formatting carry no visible text.
      } else if (c.first_child()) {
        open.push_back(c);  // w:r, w:hyperlink, w:ins, w:smartTag, w:fldSimple, ...
        c = c.first_child();
        continue;
      }
    }
    c = c.next_sibling();
  }
}

// 0 for body text, 1..6 for headings (Title counts as level 1).
int HeadingLevel(std::string_view style) {
  std::string s;
  for (char c : style) {
    if (c != ' ') s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (s == "title") return 1;
  if (s.size() == 8 && s.starts_with("heading") && s[7] >= '1' && s[7] <= '6') return s[7] - '0';
  return 0;
}

struct Paragraph {
  std::string text;
  int heading = 0;
  int list_level = -1;  // -1: not a list item
};

Paragraph ReadParagraph(const pugi::xml_node& p) {
  Paragraph out;
  if (pugi::xml_node ppr = Child(p, "pPr")) {
    out.heading = HeadingLevel(Attr(Child(ppr, "pStyle"), "val"));
    if (pugi::xml_node num = Child(ppr, "numPr")) {
      const std::string_view lvl = Attr(Child(num, "ilvl"), "val");
      out.list_level =
          lvl.empty() ? 0 : std::max(0, std::min(8, std::atoi(std::string(lvl).c_str())));
    }
  }
  RunText(p, &out.text);
  return out;
}

std::string CellText(const pugi::xml_node& tc) {
  std::string out;
  for (pugi::xml_node p : tc.children()) {
    const std::string_view name = LocalName(p);
    if (name != "p" && name != "tbl" && name != "sdt") continue;
    std::string t;
    RunText(p, &t);
    if (t.empty()) continue;
    if (!out.empty()) out.push_back(' ');
    out += t;
  }
  return out;
}

class Converter {
 public:
  // Paragraphs and tables of `container`, unwrapping content controls, custom XML and
  // insertions at any depth (iteratively, like RunText).
  void Body(const pugi::xml_node& container) {
    std::vector<pugi::xml_node> open;
    pugi::xml_node c = container.first_child();
    for (;;) {
      if (!c) {
        if (open.empty()) return;
        c = open.back().next_sibling();
        open.pop_back();
        continue;
      }
      const std::string_view name = LocalName(c);
      pugi::xml_node inner;
      if (name == "p") {
        Emit(ReadParagraph(c));
      } else if (name == "tbl") {
        Table(c);
      } else if (name == "sdt") {
        inner = Child(c, "sdtContent").first_child();
      } else if (name == "customXml" || name == "ins") {
        inner = c.first_child();
      }
      if (inner) {
        open.push_back(c);
        c = inner;
        continue;
      }
      c = c.next_sibling();
    }
  }

  std::string Take() { return std::move(out_); }

 private:
  void Emit(const Paragraph& p) {
    std::string text = p.text;
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.pop_back();
    if (text.empty()) return;  // empty paragraphs are Word's spacing, not content
    const bool list = p.list_level >= 0 && p.heading == 0;
    if (!out_.empty()) out_ += (list && last_was_list_) ? "\n" : "\n\n";
    if (p.heading > 0) {
      out_ += std::string(static_cast<size_t>(p.heading), '#') + " ";
      for (char& ch : text) {
        if (ch == '\n') ch = ' ';
      }
    } else if (list) {
      out_ += std::string(static_cast<size_t>(p.list_level) * 2, ' ') + "- ";
    }
    out_ += text;
    last_was_list_ = list;
  }

  void Table(const pugi::xml_node& tbl) {
    std::vector<std::vector<std::string>> rows;
    for (pugi::xml_node tr : tbl.children()) {
      if (LocalName(tr) != "tr") continue;
      std::vector<std::string> cells;
      for (pugi::xml_node tc : tr.children()) {
        if (LocalName(tc) == "tc") cells.push_back(CellText(tc));
      }
      if (!cells.empty()) rows.push_back(std::move(cells));
    }
    const std::string table = RenderPipeTable(rows);
    if (table.empty()) return;
    if (!out_.empty()) out_ += "\n\n";
    out_ += table;
    last_was_list_ = false;
  }

  std::string out_;
  bool last_was_list_ = false;
};

}  // namespace

Result<std::string> DocxToMarkdown(std::string_view bytes, int64_t max_uncompressed_bytes,
                                   int64_t max_compression_ratio) {
  INGEST_ASSIGN_OR_RETURN(ZipArchive zip, ZipArchive::Open(bytes, "docx_corrupt"));
  if (!zip.Has("word/document.xml")) {
    return InvalidArgument("the DOCX has no word/document.xml", "docx_corrupt");
  }
  INGEST_ASSIGN_OR_RETURN(
      std::string xml,
      zip.ReadEntry(
          "word/document.xml", static_cast<uint64_t>(std::max<int64_t>(0, max_uncompressed_bytes)),
          "docx_too_large", static_cast<uint64_t>(std::max<int64_t>(0, max_compression_ratio))));
  pugi::xml_document doc;
  // parse_ws_pcdata keeps whitespace-only runs (<w:t xml:space="preserve"> </w:t>), which are
  // the spaces between differently formatted words.
  const pugi::xml_parse_result parsed =
      doc.load_buffer_inplace(xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata);
  if (!parsed) {
    return InvalidArgument(std::string("word/document.xml is not well-formed XML: ") +
                               parsed.description() + " at byte " + std::to_string(parsed.offset),
                           "docx_corrupt");
  }
  pugi::xml_node body = Child(Child(doc, "document"), "body");
  if (!body) return InvalidArgument("word/document.xml has no w:body", "docx_corrupt");
  Converter conv;
  conv.Body(body);
  return conv.Take();
}

}  // namespace ingest::parse
