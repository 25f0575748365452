// The LlamaParse emulator's v1 result push (specs/llamaparse.md §7.1): when a job that was
// uploaded with `webhook_url` ends successfully, the emulator POSTs the results (`txt`, `md`,
// `json` pages, `images`) as JSON to that URL, retrying up to 3 attempts in all (1 s, 2 s
// apart) on a transport error or a non-2xx answer, 30 s timeout each. Behaviour for failed jobs
// is unknown for the real service; the emulator sends nothing for them.
//
// Deliveries wait on the emulator's Clock (checked every 20 ms), so a FakeClock drives them
// like the job's own completion. Thread-safe; one background thread, joined by Stop().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ingest/common/clock.h"

namespace ingest::emulate::llamaparse {

class WebhookSender {
 public:
  explicit WebhookSender(const Clock* clock) : clock_(clock) {}
  ~WebhookSender() { Stop(); }
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  // POST `body` to `url` (http or https) once the clock reaches `due_ms`.
  void Schedule(std::string url, std::string body, int64_t due_ms);
  // Deliveries made (2xx) and given up, for stats.
  int64_t delivered() const;
  int64_t failed() const;
  // Drops pending deliveries and joins the thread. Idempotent.
  void Stop();

 private:
  struct Delivery {
    std::string url;
    std::string body;
    int64_t due_ms = 0;
    int attempt = 0;
  };
  void Run();
  // One POST; true on 2xx.
  static bool Post(const std::string& url, const std::string& body);

  const Clock* clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Delivery> pending_;  // GUARDED_BY(mu_)
  bool stopping_ = false;          // GUARDED_BY(mu_)
  int64_t delivered_ = 0;          // GUARDED_BY(mu_)
  int64_t failed_ = 0;             // GUARDED_BY(mu_)
  std::thread thread_;             // started by the first Schedule
};

}  // namespace ingest::emulate::llamaparse
