#include "core/retry.h"

#include <algorithm>
#include <cmath>

namespace sluice::core {

Nanos retry_backoff(const RetryPolicy& policy, int retry, Random& random) {
  const double initial = static_cast<double>(policy.initial_backoff.count());
  const double cap = static_cast<double>(policy.max_backoff.count());
  const double grown = initial * std::pow(policy.backoff_multiplier, std::max(retry - 1, 0));
  const double base = std::min(std::isfinite(grown) ? grown : cap, cap);
  // U(0.8, 1.2) from 53 random bits.
  const double unit = static_cast<double>(random.next() >> 11) * 0x1.0p-53;
  return Nanos(static_cast<int64_t>(base * (0.8 + 0.4 * unit)));
}

RetryThrottle::RetryThrottle(const RetryThrottling& config)
    : max_milli_tokens_(int64_t{config.max_tokens} * 1000),
      ratio_milli_(static_cast<int64_t>(std::llround(config.token_ratio * 1000))),
      milli_tokens_(max_milli_tokens_) {}

void RetryThrottle::record_failure() { milli_tokens_ = std::max<int64_t>(milli_tokens_ - 1000, 0); }

void RetryThrottle::record_success() {
  milli_tokens_ = std::min(milli_tokens_ + ratio_milli_, max_milli_tokens_);
}

RetryBudget::RetryBudget(const Options& options)
    : options_(options), slice_length_(std::max<Nanos>(options.window / kSlices, Nanos(1))) {}

void RetryBudget::advance(Nanos now) {
  const int64_t slice = now.count() / slice_length_.count();
  if (slice <= current_) return;
  // Slices that fell out of the window leave the sums; at most all of them.
  const int64_t stale = std::min<int64_t>(slice - current_, kSlices);
  for (int64_t i = 1; i <= stale; ++i) {
    Slice& s = slices_[static_cast<size_t>((current_ + i) % kSlices)];
    calls_ -= s.calls;
    retries_ -= s.retries;
    s = {};
  }
  current_ = slice;
}

void RetryBudget::record_call(Nanos now) {
  advance(now);
  ++slices_[static_cast<size_t>(current_ % kSlices)].calls;
  ++calls_;
}

bool RetryBudget::try_spend(Nanos now) {
  advance(now);
  const double window_seconds = std::chrono::duration<double>(options_.window).count();
  const double allowed = static_cast<double>(calls_) * options_.percent / 100.0 +
                         options_.min_per_second * window_seconds;
  if (static_cast<double>(retries_ + 1) > allowed) return false;
  ++slices_[static_cast<size_t>(current_ % kSlices)].retries;
  ++retries_;
  return true;
}

uint64_t RetryBudget::calls(Nanos now) {
  advance(now);
  return calls_;
}

uint64_t RetryBudget::retries(Nanos now) {
  advance(now);
  return retries_;
}

}  // namespace sluice::core
