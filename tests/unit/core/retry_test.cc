#include "core/retry.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace sluice::core {
namespace {

using namespace std::chrono_literals;

// A random source that returns fixed values, in turn.
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(std::vector<uint64_t> values) : values_(std::move(values)) {}
  uint64_t next() override { return values_[i_++ % values_.size()]; }

 private:
  std::vector<uint64_t> values_;
  size_t i_ = 0;
};

constexpr uint64_t kLowest = 0;                  // U(0.8, 1.2) at its low end
constexpr uint64_t kHighest = ~uint64_t{0};      // ... at its high end
constexpr uint64_t kMiddle = uint64_t{1} << 63;  // ... exactly 1.0

RetryPolicy policy(Nanos initial, Nanos max, double multiplier) {
  RetryPolicy p;
  p.max_attempts = 5;
  p.initial_backoff = initial;
  p.max_backoff = max;
  p.backoff_multiplier = multiplier;
  return p;
}

TEST(RetryBackoff, GrowsByTheMultiplierUpToTheCap) {
  const auto p = policy(100ms, 1s, 2.0);
  FixedRandom middle({kMiddle});
  EXPECT_EQ(retry_backoff(p, 1, middle), 100ms);
  EXPECT_EQ(retry_backoff(p, 2, middle), 200ms);
  EXPECT_EQ(retry_backoff(p, 3, middle), 400ms);
  EXPECT_EQ(retry_backoff(p, 4, middle), 800ms);
  EXPECT_EQ(retry_backoff(p, 5, middle), 1s) << "capped at max_backoff";
  EXPECT_EQ(retry_backoff(p, 60, middle), 1s) << "no overflow on long runs";
}

TEST(RetryBackoff, JitterSpansEightyToHundredTwentyPercent) {
  const auto p = policy(100ms, 10s, 1.5);
  FixedRandom low({kLowest}), high({kHighest});
  EXPECT_EQ(retry_backoff(p, 1, low), 80ms);
  using Ms = std::chrono::duration<double, std::milli>;
  EXPECT_NEAR(Ms(retry_backoff(p, 1, high)).count(), 120.0, 1e-3);
  // The cap is applied before the jitter (A6): a capped backoff still spreads.
  EXPECT_EQ(retry_backoff(p, 30, low), 8s);
  FastRandom random(7);
  for (int i = 0; i < 10000; ++i) {
    const Nanos b = retry_backoff(p, 2, random);
    ASSERT_GE(b, 120ms);  // 150 ms x 0.8
    ASSERT_LE(b, 180ms);  // 150 ms x 1.2
  }
}

TEST(RetryThrottle, StopsRetriesAtHalfTheTokensAndRecoversByTheRatio) {
  RetryThrottle t({.max_tokens = 10, .token_ratio = 0.5});
  EXPECT_TRUE(t.allows_retry());
  for (int i = 0; i < 4; ++i) t.record_failure();
  EXPECT_DOUBLE_EQ(t.tokens(), 6);
  EXPECT_TRUE(t.allows_retry()) << "6 > 5";
  t.record_failure();
  EXPECT_DOUBLE_EQ(t.tokens(), 5);
  EXPECT_FALSE(t.allows_retry()) << "5 is not above half of 10";
  t.record_success();
  EXPECT_DOUBLE_EQ(t.tokens(), 5.5);
  EXPECT_TRUE(t.allows_retry());
  for (int i = 0; i < 100; ++i) t.record_success();
  EXPECT_DOUBLE_EQ(t.tokens(), 10) << "never above max_tokens";
  for (int i = 0; i < 100; ++i) t.record_failure();
  EXPECT_DOUBLE_EQ(t.tokens(), 0) << "never below zero";
}

TEST(RetryThrottle, CountsThreeDecimalsOfTheRatio) {
  RetryThrottle t({.max_tokens = 2, .token_ratio = 0.001});
  t.record_failure();
  t.record_failure();
  for (int i = 0; i < 1001; ++i) t.record_success();
  EXPECT_DOUBLE_EQ(t.tokens(), 1.001);
  EXPECT_TRUE(t.allows_retry());
}

TEST(RetryBudget, AllowsPercentOfCallsPlusTheMinimumRate) {
  RetryBudget b({.percent = 20, .min_per_second = 1, .window = 10s});
  Nanos now = 1000s;
  // No calls yet: only the minimum, 1/s over 10 s.
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(b.try_spend(now)) << i;
  EXPECT_FALSE(b.try_spend(now));
  // 100 calls add 20 retries.
  for (int i = 0; i < 100; ++i) b.record_call(now);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(b.try_spend(now)) << i;
  EXPECT_FALSE(b.try_spend(now));
  EXPECT_EQ(b.calls(now), 100u);
  EXPECT_EQ(b.retries(now), 30u);
}

TEST(RetryBudget, ForgetsWhatLeftTheWindow) {
  RetryBudget b({.percent = 10, .min_per_second = 0, .window = 10s});
  Nanos now = 500s;
  for (int i = 0; i < 100; ++i) b.record_call(now);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(b.try_spend(now));
  EXPECT_FALSE(b.try_spend(now));
  // 5 s later the calls and retries still count.
  now += 5s;
  EXPECT_FALSE(b.try_spend(now));
  for (int i = 0; i < 10; ++i) b.record_call(now);
  EXPECT_TRUE(b.try_spend(now)) << "110 calls: room for 11";
  // Once the first slice left the window, only the later 10 calls and 1 retry remain.
  now += 5s + 1ms;
  EXPECT_EQ(b.calls(now), 10u);
  EXPECT_EQ(b.retries(now), 1u);
  EXPECT_FALSE(b.try_spend(now)) << "10 calls allow 1 retry, spent";
  // A long quiet spell empties it.
  now += 1h;
  EXPECT_EQ(b.calls(now), 0u);
  EXPECT_EQ(b.retries(now), 0u);
}

TEST(RetryBudget, AStormOfFailuresIsHeldToThePercentage) {
  // Every call fails and wants a retry: over a minute at 1000 calls/s, the retries sent stay
  // at 20% + 10/s of the calls, never the 100% a naive retry policy would add.
  RetryBudget b({});
  uint64_t calls = 0, retries = 0;
  for (Nanos now = 3600s; now < 3660s; now += 1ms) {
    b.record_call(now);
    ++calls;
    retries += b.try_spend(now);
  }
  EXPECT_EQ(calls, 60000u);
  EXPECT_LE(retries, calls * 22 / 100 + 10 * 60);
  EXPECT_GE(retries, calls * 20 / 100);
}

}  // namespace
}  // namespace sluice::core
