// Open-loop pacing: call i is due at first + i * period, whatever happened to earlier calls.
// A sender measures latency from the due time, not from when it got around to sending, so
// a stall in the client, the proxy or a backend shows up in the latencies instead of quietly
// lowering the rate (no coordinated omission).
#pragma once

#include <chrono>
#include <cstdint>

namespace sluice::load {

class OpenLoopSchedule {
 public:
  using Clock = std::chrono::steady_clock;

  // `rate` calls per second in total, sent by `senders` parties; this is sender `index`'s share
  // (calls index, index + senders, ... of the whole sequence).
  OpenLoopSchedule(Clock::time_point start, double rate, uint32_t senders = 1, uint32_t index = 0);

  // When this sender's call `n` (0-based) is due.
  Clock::time_point due(uint64_t n) const;
  // How many of this sender's calls are due at `now` (calls 0 .. result-1).
  uint64_t due_by(Clock::time_point now) const;
  std::chrono::nanoseconds period() const { return period_; }

 private:
  Clock::time_point first_;
  std::chrono::nanoseconds period_;  // between two calls of this sender
  double period_ns_;                 // the same, unrounded, so long runs do not drift
};

}  // namespace sluice::load
