#include "load/open_loop_schedule.h"

#include <cmath>

namespace sluice::load {

OpenLoopSchedule::OpenLoopSchedule(Clock::time_point start, double rate, uint32_t senders,
                                   uint32_t index)
    : period_ns_(1e9 * senders / rate) {
  period_ = std::chrono::nanoseconds(static_cast<int64_t>(period_ns_));
  first_ = start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * index / rate));
}

OpenLoopSchedule::Clock::time_point OpenLoopSchedule::due(uint64_t n) const {
  return first_ +
         std::chrono::nanoseconds(static_cast<int64_t>(period_ns_ * static_cast<double>(n)));
}

uint64_t OpenLoopSchedule::due_by(Clock::time_point now) const {
  if (now < first_) return 0;
  const double elapsed = static_cast<double>((now - first_).count());
  auto n = static_cast<uint64_t>(std::floor(elapsed / period_ns_)) + 1;
  // due() rounds to whole nanoseconds; agree with it exactly, so a sender woken at due(n)
  // always finds call n due.
  while (due(n) <= now) ++n;
  while (n > 0 && due(n - 1) > now) --n;
  return n;
}

}  // namespace sluice::load
