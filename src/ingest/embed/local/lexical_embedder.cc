#include "ingest/embed/local/lexical_embedder.h"

#include <utf8proc.h>

#include <cmath>
#include <unordered_map>

#include "ingest/common/hash.h"

namespace ingest::embed {
namespace {

constexpr int kMaxDimensions = 65536;

// Distinct FNV offset bases per feature family, so "ab" as a word and "ab" as a 3-gram differ.
constexpr uint64_t kUnigramSeed = 0xcbf29ce484222325ULL;
constexpr uint64_t kBigramSeed = 0x84222325cbf29ce4ULL;
constexpr uint64_t kTrigramSeed = 0x9e3779b97f4a7c15ULL;
constexpr float kTrigramWeight = 0.5f;

// FNV-1a mixes its last bytes poorly into the low bits we use for the bucket; finish with the
// splitmix64 finaliser.
uint64_t Mix(uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

bool IsWordChar(utf8proc_int32_t cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

// Scripts written without spaces between words: one character per word.
bool IsSingleCharWord(utf8proc_int32_t cp) {
  return (cp >= 0x3040 && cp <= 0x30FF) ||  // Hiragana, Katakana
         (cp >= 0x3400 && cp <= 0x4DBF) ||  // CJK Extension A
         (cp >= 0x4E00 && cp <= 0x9FFF) ||  // CJK Unified Ideographs
         (cp >= 0xF900 && cp <= 0xFAFF) ||  // CJK Compatibility Ideographs
         (cp >= 0x20000 && cp <= 0x3FFFF);  // CJK Extensions B..
}

void AppendFolded(utf8proc_int32_t cp, std::string* out) {
  utf8proc_int32_t folded[8];
  int last_boundclass = 0;
  utf8proc_ssize_t n = utf8proc_decompose_char(cp, folded, 8, UTF8PROC_CASEFOLD, &last_boundclass);
  if (n < 0 || n > 8) {  // cannot happen for a valid code point; keep the original
    folded[0] = cp;
    n = 1;
  }
  utf8proc_uint8_t buf[4];
  for (utf8proc_ssize_t i = 0; i < n; ++i) {
    utf8proc_ssize_t len = utf8proc_encode_char(folded[i], buf);
    out->append(reinterpret_cast<const char*>(buf), static_cast<size_t>(len));
  }
}

// Case-folded words of `text`. Invalid UTF-8 bytes separate words.
std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t len = utf8proc_iterate(p, left, &cp);
    if (len <= 0) {
      flush();
      ++p;
      --left;
      continue;
    }
    p += len;
    left -= len;
    if (!IsWordChar(cp)) {
      flush();
    } else if (IsSingleCharWord(cp)) {
      flush();
      AppendFolded(cp, &current);
      flush();
    } else {
      AppendFolded(cp, &current);
    }
  }
  flush();
  return words;
}

// Whitespace-separated runs of `text`, for text that has no word characters at all.
std::vector<std::string> SymbolRuns(std::string_view text) {
  std::vector<std::string> runs;
  std::string current;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      if (!current.empty()) runs.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) runs.push_back(std::move(current));
  return runs;
}

struct Feature {
  float weight = 0;
  int tf = 0;
};

Status CheckDimensions(int dimensions) {
  if (dimensions < 1 || dimensions > kMaxDimensions) {
    return InvalidArgument(
        "lexical embedder dimensions must be in 1..65536, got " + std::to_string(dimensions),
        "invalid_config");
  }
  return Status();
}

}  // namespace

Result<std::unique_ptr<LexicalEmbedder>> LexicalEmbedder::Create(LexicalOptions options) {
  INGEST_RETURN_IF_ERROR(CheckDimensions(options.dimensions));
  return std::make_unique<LexicalEmbedder>(options);
}

LexicalEmbedder::LexicalEmbedder(LexicalOptions options)
    : space_{"lexical-v1", options.dimensions} {}

std::string LexicalEmbedder::Describe() const {
  return "lexical (hashed word and character n-grams; not a semantic model)";
}

Result<std::vector<float>> LexicalEmbedder::EmbedText(std::string_view text,
                                                      int64_t* word_count) const {
  *word_count = 0;
  INGEST_RETURN_IF_ERROR(CheckDimensions(space_.dimensions));
  std::vector<std::string> words = Words(text);
  // Text made only of symbols ("}", "-->", "|--|") is still a chunk someone may search for:
  // its whitespace-separated runs stand in for words rather than failing the document.
  if (words.empty()) words = SymbolRuns(text);
  *word_count = static_cast<int64_t>(words.size());
  if (words.empty()) {
    return InvalidArgument("text has no words to embed", "empty_text");
  }
  std::unordered_map<uint64_t, Feature> features;
  auto add = [&](uint64_t hash, float weight) {
    Feature& f = features[hash];
    f.weight = weight;
    ++f.tf;
  };
  std::string padded;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    add(Fnv1a64(w, kUnigramSeed), 1.0f);
    if (i > 0) add(Fnv1a64(w, Fnv1a64("\x1f", Fnv1a64(words[i - 1], kBigramSeed))), 1.0f);
    // 3-grams of code points over "\x02word\x03"; the markers make prefixes and suffixes
    // features of their own.
    padded.assign("\x02").append(w).append("\x03");
    std::vector<size_t> starts;
    for (size_t b = 0; b < padded.size(); ++b) {
      if ((static_cast<unsigned char>(padded[b]) & 0xC0) != 0x80) starts.push_back(b);
    }
    starts.push_back(padded.size());
    for (size_t k = 0; k + 3 < starts.size(); ++k) {
      add(Fnv1a64(std::string_view(padded).substr(starts[k], starts[k + 3] - starts[k]),
                  kTrigramSeed),
          kTrigramWeight);
    }
  }
  std::vector<float> vec(static_cast<size_t>(space_.dimensions), 0.0f);
  const uint64_t dims = static_cast<uint64_t>(space_.dimensions);
  for (const auto& [raw, f] : features) {
    const uint64_t h = Mix(raw);
    const float value = f.weight * (1.0f + std::log(static_cast<float>(f.tf)));
    vec[h % dims] += (h >> 63) ? -value : value;
  }
  double norm2 = 0;
  for (float v : vec) norm2 += static_cast<double>(v) * v;
  if (norm2 <= 0) {
    // Every feature cancelled out in its bucket: possible only for tiny dimensions.
    return InvalidArgument("text's features cancel out at this dimension", "degenerate_text");
  }
  const float inv = static_cast<float>(1.0 / std::sqrt(norm2));
  for (float& v : vec) v *= inv;
  return vec;
}

Result<EmbedOutput> LexicalEmbedder::Embed(std::span<const std::string> texts) const {
  EmbedOutput out;
  out.vectors.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    int64_t words = 0;
    Result<std::vector<float>> vec = EmbedText(texts[i], &words);
    if (!vec.ok()) {
      const Status& s = vec.status();
      return Status(s.code(), "input " + std::to_string(i) + ": " + s.message(), s.reason());
    }
    out.vectors.push_back(std::move(vec).value());
    out.usage.tokens += words;
  }
  return out;
}

}  // namespace ingest::embed
