// The arithmetic of retries (gRFC A6) and of keeping them in bounds: the backoff before each
// retry, retryThrottling's token bucket, and a retry budget in proportion to calls (Finagle,
// Linkerd). Pure kernels: time comes in as `now` (any fixed epoch), randomness through Random.
// Each worker keeps its own throttle and budget per cluster: no locks on the call path.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "core/random.h"
#include "core/service_config.h"

namespace sluice::core {

using Nanos = std::chrono::nanoseconds;

// The pause before retry number `retry` (1 = before the second attempt):
// min(initial_backoff x backoff_multiplier^(retry - 1), max_backoff) x U(0.8, 1.2).
Nanos retry_backoff(const RetryPolicy& policy, int retry, Random& random);

// retryThrottling (A6): tokens start at max_tokens; a failed attempt costs 1, a successful one
// gives token_ratio back (never above max_tokens); retries and hedges go out only while the
// tokens are above max_tokens / 2. Kept in thousandths: A6 counts three decimals of the ratio.
class RetryThrottle {
 public:
  explicit RetryThrottle(const RetryThrottling& config);
  void record_failure();
  void record_success();
  bool allows_retry() const { return milli_tokens_ * 2 > max_milli_tokens_; }
  double tokens() const { return static_cast<double>(milli_tokens_) / 1000.0; }

 private:
  int64_t max_milli_tokens_;
  int64_t ratio_milli_;
  int64_t milli_tokens_;
};

// A retry budget: over the last `window`, the retries and hedges sent may be at most
// `percent` % of the calls started, plus `min_per_second` x the window in seconds (so a
// quiet cluster can still retry). Beyond it the call ends with its last attempt's status.
// The window is kept in kSlices slices, so both operations are O(1).
class RetryBudget {
 public:
  struct Options {
    double percent = 20;
    double min_per_second = 10;
    Nanos window = std::chrono::seconds(10);
    bool operator==(const Options&) const = default;
  };
  static constexpr int kSlices = 10;

  explicit RetryBudget(const Options& options);
  const Options& options() const { return options_; }
  // A call starts (its first attempt): it adds to what retries may spend.
  void record_call(Nanos now);
  // One retry or hedge wants to go out: counted and true if the budget has room.
  bool try_spend(Nanos now);
  // Within the current window.
  uint64_t calls(Nanos now);
  uint64_t retries(Nanos now);

 private:
  struct Slice {
    uint64_t calls = 0;
    uint64_t retries = 0;
  };
  void advance(Nanos now);
  Options options_;
  Nanos slice_length_;
  std::array<Slice, kSlices> slices_{};
  int64_t current_ = 0;  // index of the slice `now` falls in, counted from the epoch
  uint64_t calls_ = 0;   // sums over the slices in the window
  uint64_t retries_ = 0;
};

}  // namespace sluice::core
