#include "ingest/text/tokenizer.h"

#include <gtest/gtest.h>
#include <utf8proc.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ingest/text/pretokenizer.h"

namespace ingest::text {
namespace {

using Ids = std::vector<uint32_t>;

const Tokenizer& Get(Encoding e) {
  Result<const Tokenizer*> t = Tokenizer::Get(e);
  INGEST_CHECK(t.ok());
  return **t;
}
const Tokenizer& Cl100k() { return Get(Encoding::kCl100kBase); }
const Tokenizer& O200k() { return Get(Encoding::kO200kBase); }

// The hand-written conformance corpus (tests/data/tokenizer); the full comparison with peers is
// tests/scripts/tokenizer_conformance_test.sh.
std::vector<std::string> Corpus() {
  std::vector<std::string> texts;
  for (const auto& entry :
       std::filesystem::directory_iterator(INGEST_SOURCE_DIR "/tests/data/tokenizer")) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    texts.push_back(buf.str());
  }
  EXPECT_GE(texts.size(), 10u);
  return texts;
}

std::string RandomBytes(std::mt19937& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

TEST(EncodingTest, ParsesAndNamesEncodings) {
  EXPECT_EQ(*ParseEncoding("cl100k_base"), Encoding::kCl100kBase);
  EXPECT_EQ(*ParseEncoding("o200k_base"), Encoding::kO200kBase);
  EXPECT_EQ(ParseEncoding("p50k_base").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEncoding("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodingName(Encoding::kCl100kBase), "cl100k_base");
  EXPECT_EQ(EncodingName(Encoding::kO200kBase), "o200k_base");
}

TEST(TokenizerTest, LoadsBothEncodingsOnce) {
  EXPECT_EQ(Cl100k().num_ranks(), 100256u);
  EXPECT_EQ(O200k().num_ranks(), 199998u);
  EXPECT_EQ(&Cl100k(), &Cl100k());
  EXPECT_EQ(Cl100k().encoding(), Encoding::kCl100kBase);
  EXPECT_EQ(O200k().encoding(), Encoding::kO200kBase);
  EXPECT_GT(Cl100k().MemoryBytes(), 1000000u);
}

// Expected ids from js-tiktoken 1.0.21 (tests/peers).
TEST(TokenizerTest, KnownIdsCl100k) {
  const Tokenizer& t = Cl100k();
  EXPECT_EQ(t.Encode("hello world"), (Ids{15339, 1917}));
  EXPECT_EQ(t.Encode("Hello world, this is a test."),
            (Ids{9906, 1917, 11, 420, 374, 264, 1296, 13}));
  EXPECT_EQ(t.Encode("It'S they'LL we'll"), (Ids{2181, 13575, 814, 6, 4178, 584, 3358}));
  EXPECT_EQ(t.Encode("  \n\n  x"), (Ids{19124, 220, 865}));
  EXPECT_EQ(t.Encode("1234567"), (Ids{4513, 10961, 22}));
  EXPECT_EQ(t.Encode("日本語のテキスト"),
            (Ids{9080, 22656, 45918, 252, 16144, 57933, 62903, 71634}));
  EXPECT_EQ(t.Encode("👨‍👩‍👧"),
            (Ids{9468, 239, 101, 378, 235, 9468, 239, 102, 378, 235, 9468, 239, 100}));
  EXPECT_EQ(t.Encode("HTTPServer getURL"), (Ids{9412, 5592, 636, 3222}));
  EXPECT_EQ(t.Encode("   "), (Ids{262}));
  EXPECT_EQ(t.Encode("a\tb"), (Ids{64, 2282}));
  EXPECT_EQ(t.Encode(""), Ids{});
}

TEST(TokenizerTest, KnownIdsO200k) {
  const Tokenizer& t = O200k();
  EXPECT_EQ(t.Encode("hello world"), (Ids{24912, 2375}));
  EXPECT_EQ(t.Encode("Hello world, this is a test."),
            (Ids{13225, 2375, 11, 495, 382, 261, 1746, 13}));
  EXPECT_EQ(t.Encode("It'S they'LL we'll"), (Ids{3206, 31233, 1023, 6, 7454, 22782}));
  EXPECT_EQ(t.Encode("  \n\n  x"), (Ids{11691, 220, 1215}));
  EXPECT_EQ(t.Encode("1234567"), (Ids{7633, 19354, 22}));
  EXPECT_EQ(t.Encode("日本語のテキスト"), (Ids{9048, 40909, 3385, 16056, 18368, 38236}));
  EXPECT_EQ(t.Encode("👨‍👩‍👧"), (Ids{28823, 101, 2524, 28823, 102, 2524, 28823, 100}));
  EXPECT_EQ(t.Encode("HTTPServer getURL"), (Ids{17893, 6444, 717, 5098}));
  EXPECT_EQ(t.Encode("   "), (Ids{271}));
  EXPECT_EQ(t.Encode("a\tb"), (Ids{64, 3722}));
}

// The embeddings API encodes special-token strings as ordinary text; Decode still knows ids.
TEST(TokenizerTest, SpecialTokenStringsAreOrdinaryText) {
  EXPECT_EQ(Cl100k().Encode("<|endoftext|>"), (Ids{27, 91, 8862, 728, 428, 91, 29}));
  EXPECT_EQ(O200k().Encode("<|endoftext|>"), (Ids{27, 91, 419, 1440, 919, 91, 29}));
  for (const Tokenizer* t : {&Cl100k(), &O200k()}) {
    for (const auto& special : t->special_tokens()) {
      Ids ids = t->Encode(std::string("a") + std::string(special.text) + "b");
      EXPECT_EQ(std::count(ids.begin(), ids.end(), special.id), 0) << special.text;
      EXPECT_EQ(*t->Decode(Ids{special.id}), special.text);
    }
  }
  EXPECT_EQ(*Cl100k().Decode(Ids{100257}), "<|endoftext|>");
  EXPECT_EQ(*O200k().Decode(Ids{199999}), "<|endoftext|>");
}

TEST(TokenizerTest, DecodeRejectsUnknownIds) {
  EXPECT_EQ(Cl100k().Decode(Ids{15339, 100256}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Cl100k().Decode(Ids{100261}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(O200k().Decode(Ids{UINT32_MAX}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*O200k().Decode(Ids{}), "");
}

TEST(TokenizerTest, RoundTripsAndCountsTheCorpus) {
  for (const Tokenizer* t : {&Cl100k(), &O200k()}) {
    for (const std::string& text : Corpus()) {
      Ids ids = t->Encode(text);
      EXPECT_EQ(*t->Decode(ids), text);
      EXPECT_EQ(t->Count(text), ids.size());
    }
  }
}

// Invalid UTF-8: each invalid byte is its own piece and encodes as that byte's token; nothing
// crashes or loops, and the bytes round-trip.
TEST(TokenizerTest, InvalidUtf8IsEncodedBytewise) {
  for (const Tokenizer* t : {&Cl100k(), &O200k()}) {
    // A lone invalid byte is one token; it splits the text as if the text ended there.
    EXPECT_EQ(t->Encode("\xff").size(), 1u);
    EXPECT_EQ(*t->Decode(t->Encode("\xff")), "\xff");
    Ids split = t->Encode("hello\xffworld");
    Ids expected = t->Encode("hello");
    expected.push_back(t->Encode("\xff")[0]);
    for (uint32_t id : t->Encode("world")) expected.push_back(id);
    EXPECT_EQ(split, expected);
    // Whitespace before an invalid byte behaves as at the end of the text.
    Ids spaces = t->Encode("a  \x80");
    Ids spaces_expected = t->Encode("a  ");
    spaces_expected.push_back(t->Encode("\x80")[0]);
    EXPECT_EQ(spaces, spaces_expected);
    // Truncated, overlong and surrogate sequences, and code points above U+10FFFF.
    for (std::string bad : {"\xe6\x97", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                            "\xf8\x88\x80\x80\x80", "caf\xc3", "\xc3(", "'\xff"}) {
      Ids ids = t->Encode(bad);
      EXPECT_EQ(*t->Decode(ids), bad);
      EXPECT_EQ(t->Count(bad), ids.size());
    }
  }
}

TEST(TokenizerTest, RandomBytesNeverCrashAndRoundTrip) {
  std::mt19937 rng(42);
  for (const Tokenizer* t : {&Cl100k(), &O200k()}) {
    for (int i = 0; i < 300; ++i) {
      std::string text = RandomBytes(rng, rng() % 600);
      Ids ids = t->Encode(text);
      ASSERT_EQ(*t->Decode(ids), text);
      ASSERT_EQ(t->Count(text), ids.size());
    }
  }
}

// Long pieces go through the heap-based merge; its result must equal the quadratic one, which
// is what short pieces use. A piece made of a repeated short piece merges the same way in both.
TEST(TokenizerTest, LongPiecesRoundTripAndMatchRepeatedShortOnes) {
  for (const Tokenizer* t : {&Cl100k(), &O200k()}) {
    std::string cjk;
    for (int i = 0; i < 400; ++i) cjk += "的一是不了人我在有他这中大来上国个到说们为子和你地";
    Ids ids = t->Encode(cjk);
    EXPECT_EQ(*t->Decode(ids), cjk);
    EXPECT_LT(ids.size(), cjk.size() / 2);
    EXPECT_EQ(t->Count(cjk), ids.size());
    std::string symbols(5000, '=');
    EXPECT_EQ(*t->Decode(t->Encode(symbols)), symbols);
  }
}

TEST(TokenizerTest, ConcurrentUseMatchesSingleThreaded) {
  const std::vector<std::string> corpus = Corpus();
  std::vector<Ids> expected_cl, expected_o;
  for (const auto& text : corpus) {
    expected_cl.push_back(Cl100k().Encode(text));
    expected_o.push_back(O200k().Encode(text));
  }
  std::vector<int> failures(8, 0);
  std::vector<std::thread> threads;
  for (int w = 0; w < 8; ++w) {
    threads.emplace_back([&, w] {
      for (int round = 0; round < 5; ++round) {
        for (size_t i = 0; i < corpus.size(); ++i) {
          const Tokenizer* cl = *Tokenizer::Get(Encoding::kCl100kBase);
          const Tokenizer* o = *Tokenizer::Get(Encoding::kO200kBase);
          if (cl->Encode(corpus[i]) != expected_cl[i]) ++failures[w];
          if (o->Count(corpus[i]) != expected_o[i].size()) ++failures[w];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int w = 0; w < 8; ++w) EXPECT_EQ(failures[w], 0) << "thread " << w;
}

TEST(TokenizerTest, WorksThroughTheTokenCounterInterface) {
  const TokenCounter& counter = Cl100k();
  EXPECT_EQ(counter.Count("hello world"), 2u);
  EXPECT_EQ(counter.Count(""), 0u);
}

// The pre-tokenizer skips utf8proc for planes 4-13 and 15-16, assuming every code point there
// has no class the regexes distinguish (unassigned, private use or noncharacter).
TEST(PretokenizerTest, SkippedPlanesHaveNoLettersNumbersOrSpaces) {
  for (uint32_t cp = 0x40000; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xE0000 && cp <= 0xEFFFF) continue;
    utf8proc_category_t c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
    ASSERT_TRUE(c == UTF8PROC_CATEGORY_CN || c == UTF8PROC_CATEGORY_CO) << std::hex << cp;
  }
}

TEST(PretokenizerTest, PiecesPartitionTheText) {
  using internal::NextPieceEnd;
  using internal::PieceRules;
  auto pieces = [](PieceRules rules, std::string_view text) {
    std::vector<std::string_view> out;
    for (size_t pos = 0; pos < text.size();) {
      size_t end = NextPieceEnd(rules, text, pos);
      EXPECT_GT(end, pos);
      out.push_back(text.substr(pos, end - pos));
      pos = end;
    }
    return out;
  };
  using V = std::vector<std::string_view>;
  // cl100k: contractions match case-insensitively, even before more letters.
  EXPECT_EQ(pieces(PieceRules::kCl100k, "it's 'LL 'square"),
            (V{"it", "'s", " '", "LL", " '", "square"}));
  EXPECT_EQ(pieces(PieceRules::kCl100k, "'square"), (V{"'s", "quare"}));
  // \s+(?!\S) leaves the last space to prefix the next word; at the end it takes all.
  EXPECT_EQ(pieces(PieceRules::kCl100k, "a   b  "), (V{"a", "  ", " b", "  "}));
  EXPECT_EQ(pieces(PieceRules::kCl100k, "x \n\n y"), (V{"x", " \n\n", " y"}));
  EXPECT_EQ(pieces(PieceRules::kCl100k, "12345"), (V{"123", "45"}));
  // o200k: upper-then-lower words, contraction suffixes, '/' after punctuation.
  EXPECT_EQ(pieces(PieceRules::kO200k, "HTTPServer it'LL"), (V{"HTTPServer", " it'LL"}));
  EXPECT_EQ(pieces(PieceRules::kO200k, "getURL"), (V{"get", "URL"}));
  EXPECT_EQ(pieces(PieceRules::kO200k, "://x"), (V{"://", "x"}));
  EXPECT_EQ(pieces(PieceRules::kO200k, ";\n/x"), (V{";\n/", "x"}));
}

}  // namespace
}  // namespace ingest::text
