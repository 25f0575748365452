// Time. Everything that reads the time takes a Clock so tests can move it by hand.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace ingest {

using Duration = std::chrono::milliseconds;

// Milliseconds since the Unix epoch (UTC). Stored as integers in every table.
using UnixMillis = int64_t;

// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, for timestamps stored and shown.
  virtual UnixMillis NowMillis() const = 0;
  // Monotonic time in milliseconds, for measuring durations.
  virtual int64_t MonotonicMillis() const = 0;

  // The process-wide real clock.
  static Clock* Real();
};

// A clock tests advance by hand. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(UnixMillis start = 1'700'000'000'000) : now_(start) {}
  UnixMillis NowMillis() const override { return now_.load(); }
  int64_t MonotonicMillis() const override { return now_.load(); }
  void Advance(Duration d) { now_ += d.count(); }
  void Set(UnixMillis t) { now_ = t; }

 private:
  std::atomic<int64_t> now_;
};

// ISO-8601 UTC with milliseconds: "2026-11-29T15:59:21.123Z".
std::string FormatIso8601(UnixMillis t);

}  // namespace ingest
