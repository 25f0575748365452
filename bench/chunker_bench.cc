// Chunker throughput on real text: ChunkMarkdown with the cl100k_base tokenizer, 512-token
// chunks, over the text of a real manual. bench/chunker.sh extracts the text (pdftotext), runs
// this and the peers (LangChain, LlamaIndex) on the same text and prints the ratios.
//
// INGEST_BENCH_TEXT: path of the text; pages separated by form feeds, as pdftotext writes them.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ingest/store/types.h"
#include "ingest/text/chunker.h"
#include "ingest/text/tokenizer.h"

namespace {

struct Corpus {
  std::vector<ingest::store::PageText> pages;
  size_t bytes = 0;
  std::string error;
};

const Corpus& LoadCorpus() {
  static const Corpus corpus = [] {
    Corpus c;
    const char* path = std::getenv("INGEST_BENCH_TEXT");
    if (path == nullptr) {
      c.error = "set INGEST_BENCH_TEXT to a text file (bench/chunker.sh does)";
      return c;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      c.error = std::string("cannot read ") + path;
      return c;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    c.bytes = text.size();
    size_t start = 0;
    int page = 1;
    while (start <= text.size()) {
      size_t ff = text.find('\f', start);
      if (ff == std::string::npos) ff = text.size();
      c.pages.push_back({page++, text.substr(start, ff - start)});
      start = ff + 1;
    }
    return c;
  }();
  return corpus;
}

const ingest::text::Tokenizer* Cl100k() {
  auto tok = ingest::text::Tokenizer::Get(ingest::text::Encoding::kCl100kBase);
  return tok.ok() ? *tok : nullptr;
}

void BM_ChunkMarkdown(benchmark::State& state) {
  const Corpus& corpus = LoadCorpus();
  const ingest::text::Tokenizer* tokenizer = Cl100k();
  if (!corpus.error.empty() || tokenizer == nullptr) {
    state.SkipWithError(corpus.error.empty() ? "tokenizer unavailable" : corpus.error.c_str());
    return;
  }
  ingest::text::ChunkerOptions options;
  options.max_tokens = static_cast<size_t>(state.range(0));
  size_t chunks = 0, tokens = 0, max_tokens = 0;
  for (auto _ : state) {
    auto out = ingest::text::ChunkMarkdown(corpus.pages, options, *tokenizer);
    chunks = out.size();
    tokens = 0;
    for (const auto& c : out) {
      tokens += c.token_count;
      max_tokens = std::max(max_tokens, c.token_count);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus.bytes));
  state.counters["chunks"] = static_cast<double>(chunks);
  state.counters["mean_tokens"] = chunks ? static_cast<double>(tokens) / chunks : 0;
  state.counters["max_tokens"] = static_cast<double>(max_tokens);
}
BENCHMARK(BM_ChunkMarkdown)->Arg(512)->Unit(benchmark::kMillisecond);

// The floor: one tokenizer pass over the whole text. Chunking counts every block and then every
// chunk's final text, so it should cost about two of these.
void BM_TokenizerCount(benchmark::State& state) {
  const Corpus& corpus = LoadCorpus();
  const ingest::text::Tokenizer* tokenizer = Cl100k();
  if (!corpus.error.empty() || tokenizer == nullptr) {
    state.SkipWithError(corpus.error.empty() ? "tokenizer unavailable" : corpus.error.c_str());
    return;
  }
  size_t tokens = 0;
  for (auto _ : state) {
    tokens = 0;
    for (const auto& p : corpus.pages) tokens += tokenizer->Count(p.text);
    benchmark::DoNotOptimize(tokens);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus.bytes));
  state.counters["tokens"] = static_cast<double>(tokens);
}
BENCHMARK(BM_TokenizerCount)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
