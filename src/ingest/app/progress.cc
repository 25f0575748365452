#include "ingest/app/progress.h"

#include <cstdio>
#include <string>

#include "ingest/obs/log.h"

namespace ingest::app {

Progress::Progress(bool enabled, int64_t total_documents)
    : enabled_(enabled), total_(total_documents), start_(std::chrono::steady_clock::now()) {}

void Progress::Update(int64_t done, int64_t pages, int64_t chunks) {
  if (!enabled_) return;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  constexpr int kWidth = 28;
  int filled = total_ > 0 ? static_cast<int>(kWidth * done / total_) : kWidth;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  double rate = secs > 0 ? static_cast<double>(pages) / secs : 0;
  std::string eta = "--:--";
  if (done > 0 && done < total_) {
    double left = secs / static_cast<double>(done) * static_cast<double>(total_ - done);
    int s = static_cast<int>(left);
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%d:%02d", s / 60, s % 60);
    eta = buf;
  } else if (done >= total_) {
    eta = "0:00";
  }
  char line[256];
  std::snprintf(line, sizeof(line),
                "[%s] %lld/%lld docs  %lld pages  %lld chunks  %.1f pages/s  ETA %s", bar.c_str(),
                static_cast<long long>(done), static_cast<long long>(total_),
                static_cast<long long>(pages), static_cast<long long>(chunks), rate, eta.c_str());
  // Through the logger, so a log line written meanwhile never lands inside the bar.
  obs::SetStatusLine(line);
  drawn_ = true;
}

void Progress::Finish() {
  if (!enabled_ || !drawn_) return;
  obs::SetStatusLine("");  // erases the bar; the summary follows on a clean line
}

void Progress::Interrupt() {
  if (enabled_ && drawn_) obs::SetStatusLine("");
}

}  // namespace ingest::app
