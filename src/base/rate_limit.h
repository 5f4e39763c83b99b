// A token bucket: `burst` events at once, refilled at `per_second`. Time is passed in, so the
// kernel is pure and tests drive it with their own clock. Used to police what a peer may make
// us do (stream resets, SETTINGS, empty DATA frames) before its connection is told to calm down.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace sluice {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(uint32_t burst, uint32_t per_second)
      : burst_(burst), per_second_(per_second), tokens_(burst) {}

  // Takes one token; false when none is left (the event is over the limit).
  bool take(Clock::time_point now) {
    refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }
  double tokens() const { return tokens_; }

 private:
  void refill(Clock::time_point now) {
    if (last_ == Clock::time_point{}) last_ = now;
    const double seconds = std::chrono::duration<double>(now - last_).count();
    if (seconds > 0) {
      tokens_ = std::min<double>(burst_, tokens_ + seconds * per_second_);
      last_ = now;
    }
  }

  uint32_t burst_;
  uint32_t per_second_;
  double tokens_;
  Clock::time_point last_{};
};

}  // namespace sluice
