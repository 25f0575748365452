#include "ingest/parse/contained/parse_wire.h"

#include <cstdint>
#include <cstring>

namespace ingest::parse {
namespace {

constexpr std::string_view kMagic = "INGESTD-PARSE/1\n";
constexpr std::string_view kEnd = "END\n";

template <typename T>
void Put(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out->append(buf, sizeof(T));
}

void PutStr(std::string* out, std::string_view s) {
  Put<uint64_t>(out, s.size());
  out->append(s);
}

// Reads fields in order; any short read marks the whole frame bad.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  template <typename T>
  bool Get(T* v) {
    if (in_.size() < sizeof(T)) return false;
    std::memcpy(v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool GetStr(std::string* s) {
    uint64_t n = 0;
    if (!Get(&n) || in_.size() < n) return false;
    s->assign(in_.data(), static_cast<size_t>(n));
    in_.remove_prefix(static_cast<size_t>(n));
    return true;
  }
  bool Literal(std::string_view lit) {
    if (!in_.starts_with(lit)) return false;
    in_.remove_prefix(lit.size());
    return true;
  }
  size_t remaining() const { return in_.size(); }

 private:
  std::string_view in_;
};

}  // namespace

std::string EncodeParseResult(const Result<ParsedDocument>& result) {
  std::string out(kMagic);
  if (result.ok()) {
    const ParsedDocument& doc = *result;
    out.push_back('D');
    Put<uint8_t>(&out, static_cast<uint8_t>(doc.type));
    PutStr(&out, doc.parser);
    PutStr(&out, doc.detail_json);
    Put<uint64_t>(&out, doc.pages.size());
    for (const store::PageText& p : doc.pages) {
      Put<int32_t>(&out, p.page);
      PutStr(&out, p.text);
    }
  } else {
    out.push_back('E');
    Put<uint32_t>(&out, static_cast<uint32_t>(result.status().code()));
    // has_reason: an empty reason stays empty (reason() would substitute the code's name).
    PutStr(&out, result.status().has_reason() ? result.status().reason() : std::string());
    PutStr(&out, result.status().message());
  }
  out.append(kEnd);
  return out;
}

std::optional<Result<ParsedDocument>> DecodeParseResult(std::string_view bytes) {
  Reader r(bytes);
  if (!r.Literal(kMagic)) return std::nullopt;
  char kind = 0;
  if (!r.Get(&kind)) return std::nullopt;
  std::optional<Result<ParsedDocument>> out;
  if (kind == 'D') {
    ParsedDocument doc;
    uint8_t type = 0;
    uint64_t n = 0;
    if (!r.Get(&type) || type > static_cast<uint8_t>(DocType::kUnknown) || !r.GetStr(&doc.parser) ||
        !r.GetStr(&doc.detail_json) || !r.Get(&n)) {
      return std::nullopt;
    }
    doc.type = static_cast<DocType>(type);
    // Each page takes at least 12 bytes: a count larger than that is a corrupt frame, not a
    // reason to reserve memory.
    if (n > r.remaining() / 12) return std::nullopt;
    doc.pages.reserve(static_cast<size_t>(n));
    for (uint64_t i = 0; i < n; ++i) {
      store::PageText page;
      int32_t number = 0;
      if (!r.Get(&number) || !r.GetStr(&page.text)) return std::nullopt;
      page.page = number;
      doc.pages.push_back(std::move(page));
    }
    out.emplace(std::move(doc));
  } else if (kind == 'E') {
    uint32_t code = 0;
    std::string reason, message;
    if (!r.Get(&code) || !r.GetStr(&reason) || !r.GetStr(&message)) return std::nullopt;
    if (code == 0 || code > static_cast<uint32_t>(StatusCode::kInternal)) return std::nullopt;
    out.emplace(Status(static_cast<StatusCode>(code), std::move(message), std::move(reason)));
  } else {
    return std::nullopt;
  }
  if (!r.Literal(kEnd) || r.remaining() != 0) return std::nullopt;
  return out;
}

}  // namespace ingest::parse
