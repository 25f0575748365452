#include "ingest/text/tokenizer.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <queue>
#include <utility>

#include "ingest/common/hash.h"
#include "ingest/text/pretokenizer.h"
#include "ingest/text/rank_table.h"
#include "ingest/text/tokenizer_data.h"

namespace ingest::text {
namespace {

using internal::RankTable;

// From tiktoken_ext/openai_public.py.
constexpr Tokenizer::SpecialToken kCl100kSpecials[] = {
    {"<|endoftext|>", 100257},  {"<|fim_prefix|>", 100258},  {"<|fim_middle|>", 100259},
    {"<|fim_suffix|>", 100260}, {"<|endofprompt|>", 100276},
};
constexpr Tokenizer::SpecialToken kO200kSpecials[] = {
    {"<|endoftext|>", 199999},
    {"<|endofprompt|>", 200018},
};

// Pieces up to this many bytes are merged with the quadratic scan over a stack array, which
// beats a heap for the short pieces that make up nearly all text; longer ones (CJK sentences,
// base64, long runs of symbols) use the O(n log n) heap so no input can go quadratic.
constexpr size_t kSmallPiece = 128;

// Rank-based BPE on one piece, the way tiktoken's byte_pair_merge does it: repeatedly merge the
// adjacent pair whose concatenation has the lowest rank, leftmost first on ties. Calls
// emit(rank) for each final token and returns the number of tokens.
template <typename Emit>
size_t MergeSmall(const RankTable& ranks, const uint8_t* p, size_t n, Emit&& emit) {
  struct Part {
    uint32_t start;
    uint32_t rank;  // rank of the pair starting here (this part + the next one)
  };
  Part parts[kSmallPiece + 1];
  size_t len = n + 1;  // parts[len - 1] is a sentinel holding the end offset
  for (size_t i = 0; i + 1 < n; ++i) parts[i] = {static_cast<uint32_t>(i), ranks.Find(p + i, 2)};
  parts[n - 1] = {static_cast<uint32_t>(n - 1), RankTable::kNoRank};
  parts[n] = {static_cast<uint32_t>(n), RankTable::kNoRank};
  auto pair_rank = [&](size_t i) {
    return i + 2 < len ? ranks.Find(p + parts[i].start, parts[i + 2].start - parts[i].start)
                       : RankTable::kNoRank;
  };
  for (;;) {
    uint32_t best = RankTable::kNoRank;
    size_t at = 0;
    for (size_t i = 0; i + 1 < len; ++i) {
      if (parts[i].rank < best) {
        best = parts[i].rank;
        at = i;
      }
    }
    if (best == RankTable::kNoRank) break;
    std::copy(parts + at + 2, parts + len, parts + at + 1);
    --len;
    parts[at].rank = pair_rank(at);
    if (at > 0) parts[at - 1].rank = pair_rank(at - 1);
  }
  for (size_t i = 0; i + 1 < len; ++i) {
    emit(ranks.Find(p + parts[i].start, parts[i + 1].start - parts[i].start));
  }
  return len - 1;
}

// The same merge order as MergeSmall, with parts in a linked list and candidate pairs in a
// min-heap keyed by (rank, start): the heap's minimum is the lowest rank, leftmost on ties.
// Entries are invalidated lazily: one is live while its part survives with the same pair rank.
template <typename Emit>
size_t MergeLarge(const RankTable& ranks, const uint8_t* p, size_t n, Emit&& emit) {
  std::vector<uint32_t> next(n), prev(n + 1), pair(n, RankTable::kNoRank);
  std::vector<uint8_t> alive(n, 1);
  std::vector<uint64_t> heap;
  heap.reserve(n);
  auto push = [&](uint32_t start) {
    if (pair[start] == RankTable::kNoRank) return;
    heap.push_back((uint64_t{pair[start]} << 32) | start);
    std::push_heap(heap.begin(), heap.end(), std::greater<>());
  };
  for (uint32_t i = 0; i < n; ++i) {
    next[i] = i + 1;
    prev[i + 1] = i;
    if (i + 1 < n) {
      pair[i] = ranks.Find(p + i, 2);
      push(i);
    }
  }
  auto pair_rank = [&](uint32_t start) {
    uint32_t mid = next[start];
    return mid < n ? ranks.Find(p + start, next[mid] - start) : RankTable::kNoRank;
  };
  size_t count = n;
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    uint64_t top = heap.back();
    heap.pop_back();
    uint32_t start = static_cast<uint32_t>(top);
    if (!alive[start] || pair[start] != static_cast<uint32_t>(top >> 32)) continue;
    uint32_t gone = next[start];
    alive[gone] = 0;
    next[start] = next[gone];
    prev[next[gone]] = start;
    --count;
    pair[start] = pair_rank(start);
    push(start);
    if (start > 0) {
      uint32_t before = prev[start];
      pair[before] = pair_rank(before);
      push(before);
    }
  }
  for (uint32_t i = 0; i < n; i = next[i]) emit(ranks.Find(p + i, next[i] - i));
  return count;
}

// Per-thread cache of merged pieces. Text repeats words heavily (Zipf), and a piece that is not
// a single token costs dozens of rank lookups to merge, so remembering recent results pays off,
// most of all for non-Latin scripts whose words are rarely single tokens. Direct-mapped and
// per thread: no locks, and the Tokenizer itself stays immutable. 256 KB per thread and
// encoding, allocated on first use.
class PieceCache {
 public:
  static constexpr size_t kMaxBytes = 30;
  static constexpr size_t kMaxIds = 8;
  struct Entry {
    uint8_t size = 0;  // 0: empty
    uint8_t count = 0;
    uint8_t bytes[kMaxBytes];
    uint32_t ids[kMaxIds];
  };
  static_assert(sizeof(Entry) == 64);

  static PieceCache& ForThread(Encoding encoding) {
    thread_local std::unique_ptr<PieceCache> caches[2];
    auto& cache = caches[encoding == Encoding::kCl100kBase ? 0 : 1];
    if (cache == nullptr) cache = std::make_unique<PieceCache>();
    return *cache;
  }
  Entry& Slot(const uint8_t* piece, size_t size) {
    return entries_[RankTable::HashBytes(piece, size) & (kEntries - 1)];
  }

 private:
  static constexpr size_t kEntries = 4096;
  Entry entries_[kEntries];
};

}  // namespace

Result<Encoding> ParseEncoding(std::string_view name) {
  if (name == "cl100k_base") return Encoding::kCl100kBase;
  if (name == "o200k_base") return Encoding::kO200kBase;
  return InvalidArgument(
      "unknown tokenizer encoding '" + std::string(name) + "' (expected cl100k_base or o200k_base)",
      "unknown_encoding");
}

std::string_view EncodingName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kCl100kBase:
      return "cl100k_base";
    case Encoding::kO200kBase:
      return "o200k_base";
  }
  return "unknown";
}

Tokenizer::Tokenizer(Encoding encoding, std::unique_ptr<internal::RankTable> ranks,
                     std::span<const SpecialToken> specials)
    : encoding_(encoding), ranks_(std::move(ranks)), specials_(specials) {}

Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::Load(Encoding encoding) {
  internal::EmbeddedRankFile file = encoding == Encoding::kCl100kBase
                                        ? internal::Cl100kBaseRankFile()
                                        : internal::O200kBaseRankFile();
  // The build verified the file; re-checking the embedded bytes costs a few milliseconds once
  // per process and turns any corruption of the binary into an error instead of wrong counts.
  if (Sha256Hex(file.bytes) != file.sha256) {
    return DataLoss("embedded " + std::string(EncodingName(encoding)) +
                        " rank data does not match its pinned sha256",
                    "tokenizer_data_corrupt");
  }
  INGEST_ASSIGN_OR_RETURN(RankTable ranks, RankTable::Parse(file.bytes));
  std::span<const SpecialToken> specials = encoding == Encoding::kCl100kBase
                                               ? std::span<const SpecialToken>(kCl100kSpecials)
                                               : std::span<const SpecialToken>(kO200kSpecials);
  internal::WarmUpPretokenizer();
  return std::unique_ptr<Tokenizer>(
      new Tokenizer(encoding, std::make_unique<RankTable>(std::move(ranks)), specials));
}

Result<const Tokenizer*> Tokenizer::Get(Encoding encoding) {
  // Function-local statics: built once, on first use, race-free (C++11 magic statics), and never
  // destroyed so that threads still running at exit can keep using them.
  using Loaded = Result<std::unique_ptr<Tokenizer>>;
  const Loaded* loaded = nullptr;
  switch (encoding) {
    case Encoding::kCl100kBase: {
      static const Loaded* cl100k = new Loaded(Load(Encoding::kCl100kBase));
      loaded = cl100k;
      break;
    }
    case Encoding::kO200kBase: {
      static const Loaded* o200k = new Loaded(Load(Encoding::kO200kBase));
      loaded = o200k;
      break;
    }
  }
  if (loaded == nullptr) return InvalidArgument("unknown tokenizer encoding");
  if (!loaded->ok()) return loaded->status();
  return static_cast<const Tokenizer*>(loaded->value().get());
}

size_t Tokenizer::EncodePiece(const uint8_t* piece, size_t size, std::vector<uint32_t>* out) const {
  // Fast path: most pieces (whole words with their leading space) are single tokens.
  uint32_t whole = ranks_->Find(piece, size);
  if (whole != RankTable::kNoRank) {
    if (out != nullptr) out->push_back(whole);
    return 1;
  }
  if (size <= PieceCache::kMaxBytes) {
    PieceCache::Entry& entry = PieceCache::ForThread(encoding_).Slot(piece, size);
    if (entry.size == size && std::memcmp(entry.bytes, piece, size) == 0) {
      if (out != nullptr) out->insert(out->end(), entry.ids, entry.ids + entry.count);
      return entry.count;
    }
    uint32_t ids[PieceCache::kMaxBytes];
    size_t count = 0;
    MergeSmall(*ranks_, piece, size, [&](uint32_t rank) { ids[count++] = rank; });
    if (count <= PieceCache::kMaxIds) {
      entry.size = static_cast<uint8_t>(size);
      entry.count = static_cast<uint8_t>(count);
      std::memcpy(entry.bytes, piece, size);
      std::memcpy(entry.ids, ids, count * sizeof(uint32_t));
    }
    if (out != nullptr) out->insert(out->end(), ids, ids + count);
    return count;
  }
  if (out != nullptr) {
    auto emit = [out](uint32_t rank) { out->push_back(rank); };
    return size <= kSmallPiece ? MergeSmall(*ranks_, piece, size, emit)
                               : MergeLarge(*ranks_, piece, size, emit);
  }
  auto ignore = [](uint32_t) {};
  return size <= kSmallPiece ? MergeSmall(*ranks_, piece, size, ignore)
                             : MergeLarge(*ranks_, piece, size, ignore);
}

std::vector<uint32_t> Tokenizer::Encode(std::string_view text) const {
  std::vector<uint32_t> ids;
  ids.reserve(text.size() / 4 + 8);
  const auto rules = encoding_ == Encoding::kCl100kBase ? internal::PieceRules::kCl100k
                                                        : internal::PieceRules::kO200k;
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  for (size_t pos = 0; pos < text.size();) {
    size_t end = internal::NextPieceEnd(rules, text, pos);
    EncodePiece(data + pos, end - pos, &ids);
    pos = end;
  }
  return ids;
}

size_t Tokenizer::Count(std::string_view text) const {
  size_t count = 0;
  const auto rules = encoding_ == Encoding::kCl100kBase ? internal::PieceRules::kCl100k
                                                        : internal::PieceRules::kO200k;
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  for (size_t pos = 0; pos < text.size();) {
    size_t end = internal::NextPieceEnd(rules, text, pos);
    count += EncodePiece(data + pos, end - pos, nullptr);
    pos = end;
  }
  return count;
}

Result<std::string> Tokenizer::Decode(std::span<const uint32_t> ids) const {
  std::string out;
  out.reserve(ids.size() * 4);
  for (uint32_t id : ids) {
    if (id < ranks_->size()) {
      out.append(ranks_->Bytes(id));
      continue;
    }
    auto special = std::find_if(specials_.begin(), specials_.end(),
                                [id](const SpecialToken& s) { return s.id == id; });
    if (special == specials_.end()) {
      return InvalidArgument(
          "token id " + std::to_string(id) + " is not in " + std::string(EncodingName(encoding_)),
          "unknown_token_id");
    }
    out.append(special->text);
  }
  return out;
}

size_t Tokenizer::num_ranks() const { return ranks_->size(); }

size_t Tokenizer::MemoryBytes() const { return ranks_->MemoryBytes() + sizeof(*this); }

}  // namespace ingest::text
