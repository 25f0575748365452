#include "ingest/parse/local/markdown_table.h"

#include <algorithm>

namespace ingest::parse {
namespace {

std::string CellText(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    if (c == '|') out.push_back('\\');
    out.push_back(c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::string RenderPipeTable(const std::vector<std::vector<std::string>>& rows) {
  size_t cols = 0;
  for (const auto& r : rows) cols = std::max(cols, r.size());
  if (cols == 0) return "";
  std::string out;
  auto emit_row = [&](const std::vector<std::string>* r) {
    out += "|";
    for (size_t c = 0; c < cols; ++c) {
      out += " ";
      if (r != nullptr && c < r->size()) out += CellText((*r)[c]);
      out += " |";
    }
  };
  emit_row(&rows[0]);
  out += "\n|";
  for (size_t c = 0; c < cols; ++c) out += " --- |";
  for (size_t i = 1; i < rows.size(); ++i) {
    out += "\n";
    emit_row(&rows[i]);
  }
  return out;
}

}  // namespace ingest::parse
