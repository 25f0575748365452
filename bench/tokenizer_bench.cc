// Single-thread throughput of text::Tokenizer (Encode and Count) for both encodings, plus the
// one-time load cost and the memory of the loaded ranks. bench/tokenizer.sh runs it next to the
// npm tokenizers on the same texts and writes the comparison (docs/performance.md).
//
// Usage: tokenizer_bench [--benchmark_...] [NAME=FILE ...]
// Without files it uses tests/data/tokenizer/english_prose.txt.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ingest/text/tokenizer.h"

namespace {

using ingest::text::Encoding;
using ingest::text::Tokenizer;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::vector<std::pair<std::string, std::string>> texts;  // name, contents
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    std::string name = eq == std::string::npos ? arg : arg.substr(0, eq);
    std::string path = eq == std::string::npos ? arg : arg.substr(eq + 1);
    texts.emplace_back(name, ReadFile(path));
    if (texts.back().second.empty()) {
      std::fprintf(stderr, "tokenizer_bench: cannot read %s\n", path.c_str());
      return 2;
    }
  }
  if (texts.empty()) {
    texts.emplace_back("english_prose",
                       ReadFile(INGEST_SOURCE_DIR "/tests/data/tokenizer/english_prose.txt"));
  }

  // Load cost is paid once per process, so it is measured once, outside the benchmark loop.
  for (Encoding e : {Encoding::kCl100kBase, Encoding::kO200kBase}) {
    auto start = std::chrono::steady_clock::now();
    auto tokenizer = Tokenizer::Get(e);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!tokenizer.ok()) {
      std::fprintf(stderr, "tokenizer_bench: %s\n", tokenizer.status().ToString().c_str());
      return 1;
    }
    std::fprintf(stderr, "load %s: %.1f ms, ranks memory %.2f MB\n",
                 std::string(ingest::text::EncodingName(e)).c_str(), ms,
                 static_cast<double>((*tokenizer)->MemoryBytes()) / 1e6);
  }

  for (Encoding e : {Encoding::kCl100kBase, Encoding::kO200kBase}) {
    const Tokenizer* t = *Tokenizer::Get(e);
    std::string enc(ingest::text::EncodingName(e));
    for (const auto& [name, text] : texts) {
      const std::string* body = &text;
      benchmark::RegisterBenchmark(
          ("Encode/" + enc + "/" + name).c_str(), [t, body](benchmark::State& state) {
            size_t tokens = 0;
            for (auto _ : state) {
              auto ids = t->Encode(*body);
              tokens = ids.size();
              benchmark::DoNotOptimize(ids.data());
            }
            state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body->size()));
            state.counters["tokens"] = static_cast<double>(tokens);
          });
      benchmark::RegisterBenchmark(
          ("Count/" + enc + "/" + name).c_str(), [t, body](benchmark::State& state) {
            for (auto _ : state) {
              benchmark::DoNotOptimize(t->Count(*body));
            }
            state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body->size()));
          });
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
