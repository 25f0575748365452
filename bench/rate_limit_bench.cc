// Rate-limit benchmark (issue 4, docs/performance.md): 4 concurrent workers embed against the
// OpenAI emulator limited in tokens per minute, once through the governor's shared token bucket
// and once as a naive client that retries 429s with exponential backoff and jitter (ignoring
// Retry-After, as many hand-written clients do). Reports, for each, the share of the token
// allowance used (billed tokens / (bucket capacity + refill x duration)) and the share of
// requests answered 429. Targets for the governed client: >= 90% used, <= 2% 429s.
//
// The emulator's window is shortened to 15 s (capacity 15,000 tokens, i.e. 60,000 TPM) so a
// run of N seconds spans several windows; the governor is told the same 60,000 TPM.
// Usage: rate_limit_bench [seconds per client, default 45] [latency ms, default 100]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "ingest/embed/openai/openai_embedder.h"
#include "ingest/emulate/openai/openai_emulator.h"
#include "ingest/governor/governor.h"
#include "ingest/obs/log.h"
#include "ingest/store/sqlite/sqlite_store.h"
#include "ingest/text/tokenizer.h"

namespace {

using namespace std::chrono_literals;
using namespace ingest;

constexpr int kThreads = 4;
constexpr int64_t kWindowMs = 15'000;
constexpr int64_t kWindowTokens = 15'000;  // = 60,000 tokens per minute

struct Outcome {
  double used = 0;      // billed tokens / allowance
  double rate_429 = 0;  // 429 answers / requests
  int64_t requests = 0;
  int64_t billed_tokens = 0;
  int64_t failed_calls = 0;
  double seconds = 0;
};

// ~250 tokens of distinct text.
std::string Text(int thread, int i, int part) {
  std::string s;
  for (int w = 0; w < 240; ++w) {
    s += "w" + std::to_string((thread * 1'000'003 + i * 7919 + part * 104729 + w) % 99991) + " ";
  }
  return s;
}

Outcome Run(bool governed, int seconds, int latency_ms, const text::TokenCounter* counter) {
  emulate::OpenAiEmulatorOptions eo;
  eo.tpm = kWindowTokens;
  eo.rate_window_ms = kWindowMs;
  eo.latency_ms = latency_ms;
  emulate::OpenAiEmulator emulator(eo, counter);
  if (!emulator.Start("127.0.0.1", 0).ok()) std::abort();

  const std::string dir =
      (std::filesystem::temp_directory_path() / ("ratebench-" + std::to_string(::getpid())))
          .string();
  std::filesystem::create_directories(dir);
  auto store = store::OpenSqliteStore(dir + "/bench.db", Clock::Real());
  if (!store.ok()) std::abort();
  if (!(*store)->MigrateTo(static_cast<int>((*store)->KnownMigrations().size())).ok()) {
    std::abort();
  }
  governor::PriceTable prices;
  governor::Governor gov(store->get(), Clock::Real(), &prices, {});
  embed::OpenAiEmbedderOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(emulator.port()) + "/v1";
  o.api_key = "bench";
  o.token_counter = counter;
  o.http.total_timeout = 60s;
  if (governed) {
    governor::ProviderOptions p;
    p.name = "openai";
    p.rate.tokens_per_minute = kWindowTokens * 60'000 / kWindowMs;
    p.rate.max_wait = 60s;
    auto gate = gov.AddProvider(p);
    if (!gate.ok()) std::abort();
    o.gate = *gate;
    o.max_retries = 3;
  } else {
    o.max_retries = 12;
    o.initial_backoff = 250ms;
    o.max_backoff = 8s;
    o.retry_after_ceiling = Duration(0);  // naive: backoff only
  }
  auto embedder = embed::OpenAiEmbedder::Create(o);
  if (!embedder.ok()) std::abort();

  std::atomic<bool> stop{false};
  std::atomic<int64_t> failed{0};
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        std::vector<std::string> texts;
        for (int part = 0; part < 4; ++part) texts.push_back(Text(t, i, part));
        if (!(*embedder)->Embed(texts).ok()) ++failed;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& th : threads) th.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto stats = emulator.Stats();
  emulator.Stop();
  std::filesystem::remove_all(dir);

  Outcome out;
  out.seconds = elapsed;
  out.requests = stats.requests;
  out.billed_tokens = stats.billed_tokens;
  out.failed_calls = failed.load();
  // What the emulator could have billed over the run: a full bucket plus its refill.
  const double allowance =
      kWindowTokens + static_cast<double>(kWindowTokens) * elapsed * 1000.0 / kWindowMs;
  out.used = static_cast<double>(stats.billed_tokens) / allowance;
  out.rate_429 = stats.requests > 0 ? static_cast<double>(stats.rate_limited) / stats.requests : 0;
  return out;
}

void Print(const char* name, const Outcome& o) {
  std::printf(
      "%-9s  %6.1f s  allowance used %5.1f%%  requests %5lld  429s %5.1f%%  billed tokens %7lld  "
      "failed calls %lld\n",
      name, o.seconds, 100 * o.used, static_cast<long long>(o.requests), 100 * o.rate_429,
      static_cast<long long>(o.billed_tokens), static_cast<long long>(o.failed_calls));
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 45;
  const int latency = argc > 2 ? std::atoi(argv[2]) : 100;
  obs::InitLogging("error", "text");
  auto counter = text::Tokenizer::Get(text::Encoding::kCl100kBase);
  if (!counter.ok()) return 1;
  std::printf(
      "rate_limit_bench: %d workers, emulator 60,000 TPM (15 s window), latency %d ms, "
      "%d s per client\n",
      kThreads, latency, seconds);
  const Outcome gov = Run(true, seconds, latency, *counter);
  Print("governed", gov);
  const Outcome naive = Run(false, seconds, latency, *counter);
  Print("naive", naive);
  std::printf(
      "ratio governed/naive tokens billed: %.2f; targets: used >= 90%% (%s), 429s <= 2%% "
      "(%s)\n",
      naive.billed_tokens > 0 ? static_cast<double>(gov.billed_tokens) / naive.billed_tokens : 0,
      gov.used >= 0.9 ? "met" : "NOT met", gov.rate_429 <= 0.02 ? "met" : "NOT met");
  return 0;
}
