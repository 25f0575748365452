#include "ingest/emulate/llamaparse/webhook_sender.h"

#include <httplib.h>

#include <chrono>

namespace ingest::emulate::llamaparse {
namespace {

constexpr int kMaxAttempts = 3;

}  // namespace

void WebhookSender::Schedule(std::string url, std::string body, int64_t due_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  pending_.push_back(Delivery{std::move(url), std::move(body), due_ms, 0});
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
  cv_.notify_all();
}

int64_t WebhookSender::delivered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return delivered_;
}

int64_t WebhookSender::failed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

void WebhookSender::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    pending_.clear();
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void WebhookSender::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    const int64_t now = clock_->NowMillis();
    auto due = pending_.end();
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->due_ms <= now) {
        due = it;
        break;
      }
    }
    if (due == pending_.end()) {
      cv_.wait_for(lock, std::chrono::milliseconds(20));
      continue;
    }
    Delivery d = std::move(*due);
    pending_.erase(due);
    lock.unlock();
    const bool ok = Post(d.url, d.body);
    lock.lock();
    if (ok) {
      ++delivered_;
    } else if (++d.attempt < kMaxAttempts) {
      d.due_ms = clock_->NowMillis() + (1000LL << (d.attempt - 1));  // 1 s, then 2 s
      pending_.push_back(std::move(d));
    } else {
      ++failed_;
    }
  }
}

bool WebhookSender::Post(const std::string& url, const std::string& body) {
  // scheme://host[:port][/path][?query]
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const size_t path_start = url.find('/', scheme_end + 3);
  const std::string origin = url.substr(0, path_start);
  const std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  httplib::Client client(origin);
  client.set_connection_timeout(std::chrono::seconds(10));
  client.set_read_timeout(std::chrono::seconds(30));
  client.set_write_timeout(std::chrono::seconds(30));
  httplib::Headers headers = {{"User-Agent", "llamaindex-webhook-service/1.0"}};
  auto res = client.Post(path, headers, body, "application/json");
  return res && res->status >= 200 && res->status < 300;
}

}  // namespace ingest::emulate::llamaparse
