// A one-line progress bar for `ingestd ingest` on a terminal: documents, pages, chunks, rate
// and ETA, redrawn in place on stderr through obs::SetStatusLine, so log lines never mix with
// it. Not thread-safe; driven by the CLI's polling loop.
#pragma once

#include <chrono>
#include <cstdint>

namespace ingest::app {

class Progress {
 public:
  Progress(bool enabled, int64_t total_documents);
  void Update(int64_t documents_done, int64_t pages, int64_t chunks);
  // Erases the bar (the summary is printed on a clean line).
  void Finish();
  // Erases the bar before the caller prints its own lines; the next Update draws it again.
  void Interrupt();

 private:
  bool enabled_;
  int64_t total_;
  std::chrono::steady_clock::time_point start_;
  bool drawn_ = false;
};

}  // namespace ingest::app
