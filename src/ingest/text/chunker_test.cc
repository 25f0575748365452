#include "ingest/text/chunker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "ingest/text/tokenizer.h"

namespace ingest::text {
namespace {

// One token per byte: the worst case for multi-byte text (CJK, emoji).
class ByteCounter : public TokenCounter {
 public:
  size_t Count(std::string_view text) const override { return text.size(); }
};

// One token per whitespace-separated word: a stand-in for a real tokenizer on prose.
class WordCounter : public TokenCounter {
 public:
  size_t Count(std::string_view text) const override {
    size_t n = 0;
    bool in_word = false;
    for (char c : text) {
      bool space = c == ' ' || c == '\n' || c == '\t';
      if (!space && !in_word) ++n;
      in_word = !space;
    }
    return n;
  }
};

// Super-additive: joining two texts costs more than the sum of their counts, like a BPE seam that
// gets worse. Exercises the chunker's recount-and-back-off path.
class SuperAdditiveCounter : public TokenCounter {
 public:
  size_t Count(std::string_view text) const override {
    return text.size() / 2 + text.size() * text.size() / 4000;
  }
};

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

std::vector<TextChunk> Chunk(const std::string& text, size_t max_tokens,
                             const TokenCounter& counter, size_t overlap = 0) {
  std::vector<store::PageText> pages = {{1, text}};
  return ChunkMarkdown(pages, {max_tokens, overlap}, counter);
}

std::string NonSpace(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '\n' && c != '\t') out += c;
  }
  return out;
}

void ExpectInvariants(const std::vector<TextChunk>& chunks, size_t max_tokens,
                      const TokenCounter& counter) {
  for (size_t i = 0; i < chunks.size(); ++i) {
    const TextChunk& c = chunks[i];
    EXPECT_EQ(c.ordinal, static_cast<int>(i));
    EXPECT_FALSE(NonSpace(c.text).empty()) << "empty chunk " << i;
    EXPECT_EQ(c.token_count, counter.Count(c.text)) << "chunk " << i;
    EXPECT_LE(c.token_count, max_tokens) << "chunk " << i << ": " << c.text;
    EXPECT_TRUE(ValidUtf8(c.text)) << "chunk " << i;
    EXPECT_LE(c.page_start, c.page_end);
  }
}

TEST(ChunkerTest, HeadingPathsAndSectionBoundaries) {
  WordCounter words;
  auto chunks = Chunk(
      "Preamble text.\n\n# Guide\n\nIntro.\n\n## Install\n\nRun it.\n\n### Linux ###\n\n"
      "apt install.\n\n## Use\n\nCall it.",
      512, words);
  ASSERT_EQ(chunks.size(), 5u);
  EXPECT_EQ(chunks[0].heading_path, "");
  EXPECT_EQ(chunks[0].text, "Preamble text.");
  EXPECT_EQ(chunks[1].heading_path, "Guide");
  EXPECT_EQ(chunks[1].text, "# Guide\n\nIntro.");
  EXPECT_EQ(chunks[2].heading_path, "Guide > Install");
  EXPECT_EQ(chunks[3].heading_path, "Guide > Install > Linux");
  EXPECT_EQ(chunks[3].text, "### Linux ###\n\napt install.");
  EXPECT_EQ(chunks[4].heading_path, "Guide > Use");
  EXPECT_EQ(chunks[4].text, "## Use\n\nCall it.");
}

TEST(ChunkerTest, ConsecutiveHeadingsShareAChunk) {
  WordCounter words;
  auto chunks = Chunk("# Title\n\n## Part\n\nBody text here.", 512, words);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].heading_path, "Title > Part");
  EXPECT_EQ(chunks[0].text, "# Title\n\n## Part\n\nBody text here.");
}

TEST(ChunkerTest, HashInsideCodeIsNotAHeading) {
  WordCounter words;
  auto chunks = Chunk("# A\n\n```sh\n# comment\necho hi\n```\n\nAfter.", 512, words);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].heading_path, "A");
  EXPECT_EQ(chunks[0].text, "# A\n\n```sh\n# comment\necho hi\n```\n\nAfter.");
}

TEST(ChunkerTest, PlainTextHasNoHeadingsOrFences) {
  // Regression: R code comments ("# FALSE", "## like the input") in a PDF's text layer were
  // taken for Markdown headings, cutting fullrefman.pdf into tiny symbol-only chunks.
  WordCounter words;
  std::vector<store::PageText> pages = {
      {7, "x <- c(1, 2)\n# FALSE\nget(\"a[1]\") == 2\n## like the input\n```\n| a | b |"}};
  ChunkerOptions options;
  options.max_tokens = 512;
  options.markdown = false;
  auto chunks = ChunkMarkdown(pages, options, words);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].heading_path, "");
  EXPECT_EQ(chunks[0].text, pages[0].text);
  EXPECT_EQ(chunks[0].page_start, 7);
  options.markdown = true;
  EXPECT_GT(ChunkMarkdown(pages, options, words).size(), 1u);
}

std::string Table(int rows) {
  std::string t = "| name | value |\n|------|-------|\n";
  for (int i = 0; i < rows; ++i) {
    t += "| row" + std::to_string(i) + " | " + std::to_string(i * 7) + " |\n";
  }
  t.pop_back();
  return t;
}

TEST(ChunkerTest, TableKeptWholeInItsOwnChunkWhenItFits) {
  ByteCounter bytes;
  const std::string table = Table(8);  // ~150 bytes
  const std::string para(120, 'x');
  auto chunks = Chunk(para + "\n\n" + table + "\n\n" + para, 200, bytes);
  ExpectInvariants(chunks, 200, bytes);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[1].text, table);
}

TEST(ChunkerTest, OversizedTableSplitByRowsRepeatingTheHeader) {
  ByteCounter bytes;
  const std::string table = Table(100);
  auto chunks = Chunk(table, 200, bytes);
  ExpectInvariants(chunks, 200, bytes);
  ASSERT_GT(chunks.size(), 5u);
  std::string rows;
  for (const TextChunk& c : chunks) {
    ASSERT_EQ(c.text.rfind("| name | value |\n|------|-------|\n", 0), 0u) << c.text;
    rows += c.text.substr(std::string("| name | value |\n|------|-------|\n").size()) + "\n";
  }
  // Every row exactly once, in order.
  EXPECT_EQ("| name | value |\n|------|-------|\n" + rows, table + "\n");
}

TEST(ChunkerTest, CodeKeptWholeWhenItFitsAndRefencedWhenSplit) {
  ByteCounter bytes;
  std::string code = "```python\n";
  for (int i = 0; i < 60; ++i)
    code += "x" + std::to_string(i) + " = compute(" + std::to_string(i) + ")\n";
  code += "```";
  auto whole = Chunk("Intro.\n\n" + code, 4096, bytes);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].text, "Intro.\n\n" + code);

  auto split = Chunk(code, 300, bytes);
  ExpectInvariants(split, 300, bytes);
  ASSERT_GT(split.size(), 3u);
  std::string body;
  for (const TextChunk& c : split) {
    ASSERT_EQ(c.text.rfind("```python\n", 0), 0u);
    ASSERT_EQ(c.text.substr(c.text.size() - 4), "\n```");
    body += c.text.substr(10, c.text.size() - 14) + "\n";
  }
  EXPECT_EQ("```python\n" + body + "```", code);
}

TEST(ChunkerTest, ListSplitBetweenItems) {
  WordCounter words;
  std::string list;
  for (int i = 0; i < 40; ++i) list += "- item " + std::to_string(i) + " has five words\n";
  auto chunks = Chunk(list, 32, words);
  ExpectInvariants(chunks, 32, words);
  ASSERT_GT(chunks.size(), 5u);
  int items = 0;
  for (const TextChunk& c : chunks) {
    size_t pos = 0;
    while (pos < c.text.size()) {
      size_t nl = c.text.find('\n', pos);
      std::string line = c.text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      EXPECT_EQ(line.rfind("- item ", 0), 0u) << line;
      EXPECT_NE(line.find("has five words"), std::string::npos) << line;
      ++items;
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
  }
  EXPECT_EQ(items, 40);
}

TEST(ChunkerTest, LongParagraphSplitAtSentences) {
  WordCounter words;
  std::string para;
  for (int i = 0; i < 50; ++i) para += "Sentence number " + std::to_string(i) + " ends here. ";
  auto chunks = Chunk(para, 40, words);
  ExpectInvariants(chunks, 40, words);
  ASSERT_GT(chunks.size(), 5u);
  for (const TextChunk& c : chunks) {
    EXPECT_EQ(c.text.rfind("Sentence number ", 0), 0u) << c.text;
    EXPECT_EQ(c.text.back(), '.') << c.text;
  }
}

TEST(ChunkerTest, WordlessTextIsCutAtCodePointBoundaries) {
  ByteCounter bytes;
  std::string text;
  for (int i = 0; i < 700; ++i) text += (i % 3 == 0) ? "漢" : (i % 3 == 1) ? "😀" : "é";
  auto chunks = Chunk(text, 50, bytes);
  ExpectInvariants(chunks, 50, bytes);
  std::string joined;
  for (size_t i = 0; i < chunks.size(); ++i) {
    // Maximal cuts: every chunk but the last is at most one code point (4 bytes) short.
    if (i + 1 < chunks.size()) {
      EXPECT_GE(chunks[i].token_count, 46u) << i;
    }
    joined += chunks[i].text;
  }
  EXPECT_EQ(joined, text);
}

TEST(ChunkerTest, PageRangesFollowBlocks) {
  WordCounter words;
  std::vector<store::PageText> pages = {
      {1, "# Report\n\nFirst page paragraph one.\n\nFirst page paragraph two."},
      {2, "Second page paragraph."},
      {3, "## Appendix\n\nThird page."}};
  auto chunks = ChunkMarkdown(pages, {512, 0}, words);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].page_start, 1);
  EXPECT_EQ(chunks[0].page_end, 2);
  EXPECT_EQ(chunks[1].page_start, 3);
  EXPECT_EQ(chunks[1].page_end, 3);
  EXPECT_EQ(chunks[1].heading_path, "Report > Appendix");
}

TEST(ChunkerTest, OverlapRepeatsTheTailOfThePreviousChunkInTheSameSection) {
  WordCounter words;
  std::string text = "# S\n\n";
  for (int i = 0; i < 30; ++i) {
    text += "Paragraph " + std::to_string(i) + " says alpha beta gamma delta epsilon.\n\n";
  }
  text += "# T\n\nNew section.";
  auto plain = Chunk(text, 40, words, 0);
  auto over = Chunk(text, 40, words, 5);
  ExpectInvariants(over, 40, words);
  ASSERT_GT(over.size(), 4u);
  int with_overlap = 0;
  for (size_t i = 1; i < over.size(); ++i) {
    if (over[i].heading_path == "T") {
      EXPECT_EQ(over[i].text, "# T\n\nNew section.");  // no overlap across sections
      continue;
    }
    // The chunk starts with the previous chunk's last 5 words, then a paragraph break.
    size_t brk = over[i].text.find("\n\n");
    ASSERT_NE(brk, std::string::npos);
    std::string tail = over[i].text.substr(0, brk);
    EXPECT_EQ(words.Count(tail), 5u) << tail;
    const std::string& prev = over[i - 1].text;
    EXPECT_EQ(prev.substr(prev.size() - tail.size()), tail);
    ++with_overlap;
  }
  EXPECT_GT(with_overlap, 3);
  // Without overlap, no chunk repeats the previous one's tail.
  for (size_t i = 1; i < plain.size(); ++i)
    EXPECT_EQ(plain[i].text.rfind("epsilon.", 0), std::string::npos);
}

TEST(ChunkerTest, DeterministicAndNeverEmpty) {
  ByteCounter bytes;
  const std::string text = "\n\n   \n\n# \n\n```\n```\n\n|\n\n- \n\nword";
  auto a = Chunk(text, 64, bytes);
  auto b = Chunk(text, 64, bytes);
  ExpectInvariants(a, 64, bytes);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].text, b[i].text);
  EXPECT_TRUE(Chunk("", 64, bytes).empty());
  EXPECT_TRUE(Chunk("  \n\n \t\n", 64, bytes).empty());
}

// --- property test over random Markdown -------------------------------------------------------

class RandomMarkdown {
 public:
  explicit RandomMarkdown(uint32_t seed) : rng_(seed) {}

  std::string Word() {
    static const char* kPieces[] = {"data", "chunk",  "token", "漢字", "テスト",
                                    "😀",    "é",      "ß",     "x",    "longerword",
                                    "🇫🇷",   "한국어", "α",     "—",    "1234"};
    std::string w;
    int parts = Uniform(1, 3);
    for (int i = 0; i < parts; ++i) w += kPieces[Uniform(0, std::size(kPieces) - 1)];
    if (Uniform(0, 30) == 0) w = std::string(static_cast<size_t>(Uniform(100, 400)), 'z') + w;
    return w;
  }

  std::string Sentence() {
    std::string s;
    int n = Uniform(1, 25);
    for (int i = 0; i < n; ++i) s += (i ? " " : "") + Word();
    return s + (Uniform(0, 3) == 0 ? "。" : ". ");
  }

  std::string Block(bool structured) {
    int kind = Uniform(0, structured ? 5 : 3);
    std::string b;
    switch (kind) {
      case 0:
        return std::string(static_cast<size_t>(Uniform(1, 4)), '#') + " " + Word() + " " + Word();
      case 1:
      case 2: {
        int n = Uniform(1, 12);
        for (int i = 0; i < n; ++i) b += Sentence();
        return b;
      }
      case 3: {
        int n = Uniform(1, 20);
        for (int i = 0; i < n; ++i) b += (i ? "\n" : "") + std::string("- ") + Sentence();
        return b;
      }
      case 4: {
        b = "| " + Word() + " | " + Word() + " |\n|---|---|";
        int n = Uniform(1, 30);
        for (int i = 0; i < n; ++i) b += "\n| " + Word() + " | " + Sentence() + " |";
        return b;
      }
      default: {
        b = "```\n";
        int n = Uniform(1, 30);
        for (int i = 0; i < n; ++i) b += Sentence() + "\n";
        return b + "```";
      }
    }
  }

  std::vector<store::PageText> Pages(bool structured) {
    std::vector<store::PageText> pages;
    int n = Uniform(1, 4);
    for (int p = 1; p <= n; ++p) {
      std::string text;
      int blocks = Uniform(0, 12);
      for (int i = 0; i < blocks; ++i) text += Block(structured) + "\n\n";
      pages.push_back({p, text});
    }
    return pages;
  }

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

 private:
  std::mt19937 rng_;
};

TEST(ChunkerPropertyTest, InvariantsHoldOnRandomMarkdown) {
  ByteCounter bytes;
  WordCounter words;
  SuperAdditiveCounter super;
  const TokenCounter* counters[] = {&bytes, &words, &super};
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    RandomMarkdown gen(seed);
    const bool structured = seed % 2 == 0;
    std::vector<store::PageText> pages = gen.Pages(structured);
    const TokenCounter& counter = *counters[seed % 3];
    ChunkerOptions options{static_cast<size_t>(gen.Uniform(16, 400)),
                           static_cast<size_t>(seed % 4 == 1 ? gen.Uniform(1, 60) : 0)};
    auto chunks = ChunkMarkdown(pages, options, counter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    ExpectInvariants(chunks, options.max_tokens, counter);
    for (const TextChunk& c : chunks) {
      EXPECT_GE(c.page_start, 1);
      EXPECT_LE(c.page_end, static_cast<int>(pages.size()));
    }
    auto again = ChunkMarkdown(pages, options, counter);
    ASSERT_EQ(again.size(), chunks.size());
    for (size_t i = 0; i < chunks.size(); ++i) ASSERT_EQ(again[i].text, chunks[i].text);
    if (!structured && options.overlap_tokens == 0) {
      // Without repeated table headers, fences or overlap, no character is lost or duplicated.
      std::string in, out;
      for (const auto& p : pages) in += NonSpace(p.text);
      for (const auto& c : chunks) out += NonSpace(c.text);
      EXPECT_EQ(out, in);
    }
    if (HasFailure()) break;
  }
}

// The real cl100k_base BPE is not additive (merges across the "\n\n" seams, across split points
// inside a word): the bound must still hold exactly.
TEST(ChunkerPropertyTest, InvariantsHoldWithTheCl100kTokenizer) {
  auto tokenizer = Tokenizer::Get(Encoding::kCl100kBase);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  const TokenCounter& counter = **tokenizer;
  for (uint32_t seed = 1000; seed < 1050; ++seed) {
    RandomMarkdown gen(seed);
    std::vector<store::PageText> pages = gen.Pages(seed % 2 == 0);
    ChunkerOptions options{static_cast<size_t>(gen.Uniform(16, 300)),
                           static_cast<size_t>(seed % 3 == 0 ? gen.Uniform(1, 40) : 0)};
    SCOPED_TRACE("seed " + std::to_string(seed));
    ExpectInvariants(ChunkMarkdown(pages, options, counter), options.max_tokens, counter);
    if (HasFailure()) break;
  }
}

// --- stability under local edits ----------------------------------------------------------------

class Prose {
 public:
  explicit Prose(uint32_t seed) : rng_(seed) {}
  std::string Paragraph() {
    static const char* kWords[] = {"the",    "system",   "stores", "chunks", "of",     "text",
                                   "and",    "vectors",  "for",    "search", "a",      "worker",
                                   "leases", "jobs",     "from",   "queue",  "budget", "limits",
                                   "every",  "document", "is",     "parsed", "once",   "model"};
    int n = std::uniform_int_distribution<int>(30, 140)(rng_);
    std::string p;
    for (int i = 0; i < n; ++i) {
      p += kWords[std::uniform_int_distribution<size_t>(0, std::size(kWords) - 1)(rng_)];
      p += (i % 12 == 11) ? ". " : " ";
    }
    p += "end" + std::to_string(serial_++) + ".";
    return p;
  }

 private:
  std::mt19937 rng_;
  int serial_ = 0;
};

// A document of 16 sections; sections 3, 7 and 11 are long (80 paragraphs, ~20 chunks each).
// Edits go early in section 7 so a cascade would have many chunks to run through.
std::vector<std::string> DocumentBlocks(Prose& prose, size_t* middle_of_long_section) {
  std::vector<std::string> blocks;
  for (int s = 0; s < 16; ++s) {
    blocks.push_back("## Section " + std::to_string(s));
    int paras = (s == 3 || s == 7 || s == 11) ? 80 : 6;
    for (int p = 0; p < paras; ++p) {
      if (s == 7 && p == 15) *middle_of_long_section = blocks.size();
      blocks.push_back(prose.Paragraph());
    }
  }
  return blocks;
}

std::string Render(const std::vector<std::string>& blocks) {
  std::string text = "# Manual\n\n";
  for (const std::string& b : blocks) text += b + "\n\n";
  return text;
}

// Chunks of `after` whose text does not occur in `before` (as multisets).
size_t ChangedChunks(const std::vector<TextChunk>& before, const std::vector<TextChunk>& after) {
  std::map<std::string, int> pool;
  for (const TextChunk& c : before) ++pool[c.text];
  size_t changed = 0;
  for (const TextChunk& c : after) {
    auto it = pool.find(c.text);
    if (it != pool.end() && it->second > 0) {
      --it->second;
    } else {
      ++changed;
    }
  }
  return changed;
}

TEST(ChunkerStabilityTest, LocalEditsChangeOnlyNearbyChunks) {
  WordCounter words;
  size_t total_changed = 0, worst = 0, edits = 0, base_tokens = 0, base_chunks = 0;
  std::string dist;
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    Prose prose(seed);
    size_t mid = 0;
    std::vector<std::string> blocks = DocumentBlocks(prose, &mid);
    const auto base = Chunk(Render(blocks), 512, words);
    EXPECT_GE(base.size(), 50u);
    for (const TextChunk& c : base) base_tokens += c.token_count;
    base_chunks += base.size();
    ExpectInvariants(base, 512, words);

    for (int kind = 0; kind < 3; ++kind) {
      std::vector<std::string> edited = blocks;
      const size_t at = mid + static_cast<size_t>(kind) * 3;
      if (kind == 0) edited[at] = prose.Paragraph();  // change
      if (kind == 1)
        edited.insert(edited.begin() + static_cast<long>(at), prose.Paragraph());  // insert
      if (kind == 2) edited.erase(edited.begin() + static_cast<long>(at));         // delete
      const auto after = Chunk(Render(edited), 512, words);
      // Both directions: chunks that appeared and chunks that disappeared.
      const size_t changed = std::max(ChangedChunks(base, after), ChangedChunks(after, base));
      total_changed += changed;
      worst = std::max(worst, changed);
      ++edits;
      EXPECT_LE(changed, 5u) << "seed " << seed << " edit kind " << kind;
      dist += std::to_string(changed) + (kind == 2 ? " | " : " ");
    }
  }
  std::printf("changed per edit (change insert delete): %s\n", dist.c_str());
  const double mean = static_cast<double>(total_changed) / static_cast<double>(edits);
  std::printf(
      "stability: %zu edits, mean %.2f changed chunks, worst %zu; %zu chunks, mean %.0f tokens\n",
      edits, mean, worst, base_chunks,
      static_cast<double>(base_tokens) / static_cast<double>(base_chunks));
  // Greedy packing scores mean 6.7 here (an edit shifts every later boundary of its section).
  EXPECT_LE(mean, 2.5);
}

}  // namespace
}  // namespace ingest::text
