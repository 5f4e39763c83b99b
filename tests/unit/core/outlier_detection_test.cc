// The ejection kernel against hand-computed cases (gRPC A50): consecutive failures, success
// rate, failure percentage, ejection times, the ejection limit.
#include "core/outlier_detection.h"

#include <gtest/gtest.h>

namespace sluice::core {
namespace {

using namespace std::chrono_literals;
using Nanos = std::chrono::nanoseconds;

std::vector<std::string> addresses(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back("10.0.0." + std::to_string(i + 1) + ":1");
  return out;
}

OutlierConfig fast_config() {
  OutlierConfig c;
  c.interval = 1s;
  c.base_ejection_time = 10s;
  c.max_ejection_time = 25s;
  c.max_ejection_percent = 50;
  return c;
}

TEST(OutlierDetection, ConsecutiveFailuresEjectAtOnceForBaseTimesMultiplier) {
  OutlierDetector d(fast_config());
  d.set_endpoints(addresses(4));
  EXPECT_TRUE(d.on_consecutive_failures(1, Nanos(100s)));
  EXPECT_TRUE(d.ejected(1));
  EXPECT_FALSE(d.on_consecutive_failures(1, Nanos(101s))) << "already ejected";
  EXPECT_EQ(d.ejected_until(1), Nanos(110s));
  EXPECT_EQ(d.endpoints()[1].reason, EjectionReason::kConsecutiveFailures);
  EXPECT_FALSE(d.evaluate(Nanos(109s)));
  EXPECT_TRUE(d.evaluate(Nanos(110s))) << "back after base_ejection_time";
  EXPECT_FALSE(d.ejected(1));
  // Ejected again before a healthy interval passed: twice as long.
  EXPECT_TRUE(d.on_consecutive_failures(1, Nanos(110s) + 1ms));
  EXPECT_EQ(d.ejected_until(1), Nanos(130s) + 1ms);
  EXPECT_EQ(d.endpoints()[1].ejections, 2u);
  // The third time the cap (max_ejection_time 25 s) holds.
  d.evaluate(Nanos(131s));
  EXPECT_TRUE(d.on_consecutive_failures(1, Nanos(131s) + 1ms));
  EXPECT_EQ(d.ejected_until(1), Nanos(156s) + 1ms);
}

TEST(OutlierDetection, HealthyIntervalsShrinkTheMultiplier) {
  OutlierDetector d(fast_config());
  d.set_endpoints(addresses(4));
  d.on_consecutive_failures(0, Nanos(0s));
  d.evaluate(Nanos(10s));  // back; multiplier stays 1 this interval (it was ejected)
  EXPECT_EQ(d.endpoints()[0].multiplier, 1u);
  d.evaluate(Nanos(11s));  // a healthy interval
  EXPECT_EQ(d.endpoints()[0].multiplier, 0u);
  d.on_consecutive_failures(0, Nanos(12s));
  EXPECT_EQ(d.ejected_until(0), Nanos(22s)) << "base time again";
}

TEST(OutlierDetection, OffWhenConsecutiveFailuresIsZero) {
  OutlierConfig c = fast_config();
  c.consecutive_failures = 0;
  OutlierDetector d(c);
  d.set_endpoints(addresses(3));
  EXPECT_FALSE(d.on_consecutive_failures(0, Nanos(0s)));
}

TEST(OutlierDetection, TheLimitAlwaysAllowsOneEjection) {
  OutlierConfig c = fast_config();
  c.max_ejection_percent = 10;
  OutlierDetector d(c);
  d.set_endpoints(addresses(3));
  EXPECT_TRUE(d.on_consecutive_failures(0, Nanos(0s))) << "1 of 3 is 33% > 10%, but the first";
  EXPECT_FALSE(d.on_consecutive_failures(1, Nanos(0s)));
  EXPECT_EQ(d.ejected_count(), 1u);
}

TEST(OutlierDetection, TheLimitCapsEjectionsAtThePercentage) {
  OutlierConfig c = fast_config();
  c.max_ejection_percent = 20;
  OutlierDetector d(c);
  d.set_endpoints(addresses(10));
  for (size_t i = 0; i < 10; ++i) d.on_consecutive_failures(i, Nanos(0s));
  EXPECT_EQ(d.ejected_count(), 2u);
}

TEST(OutlierDetection, SuccessRateEjectsBelowMeanMinusStdevFactor) {
  OutlierConfig c = fast_config();
  c.success_rate = OutlierConfig::SuccessRate{1000, 5, 100};  // factor 1.0
  OutlierDetector d(c);
  d.set_endpoints(addresses(5));
  // Rates 1.0, 1.0, 1.0, 1.0, 0.7: mean 0.94, stdev sqrt((4*0.0036 + 0.0576)/5) = 0.12;
  // threshold 0.82: only the last is below.
  for (size_t i = 0; i < 4; ++i) d.add_counts(i, 200, 0);
  d.add_counts(4, 140, 60);
  EXPECT_TRUE(d.evaluate(Nanos(1s)));
  EXPECT_TRUE(d.ejected(4));
  EXPECT_EQ(d.ejected_count(), 1u);
  EXPECT_EQ(d.endpoints()[4].reason, EjectionReason::kSuccessRate);
}

TEST(OutlierDetection, SuccessRateNeedsVolumeAndEnoughHosts) {
  OutlierConfig c = fast_config();
  c.success_rate = OutlierConfig::SuccessRate{1000, 5, 100};
  OutlierDetector d(c);
  d.set_endpoints(addresses(5));
  for (size_t i = 0; i < 4; ++i) d.add_counts(i, 200, 0);
  d.add_counts(4, 50, 49);  // 99 calls: under request_volume, not judged; 4 hosts < 5
  EXPECT_FALSE(d.evaluate(Nanos(1s)));
  EXPECT_EQ(d.ejected_count(), 0u);
  // The stock factor 1.9 with the 0.7 case: threshold 0.94 - 0.228 = 0.712: still ejected.
  OutlierConfig stock = fast_config();
  stock.success_rate = OutlierConfig::SuccessRate{};
  OutlierDetector s(stock);
  s.set_endpoints(addresses(5));
  for (size_t i = 0; i < 4; ++i) s.add_counts(i, 200, 0);
  s.add_counts(4, 140, 60);
  s.evaluate(Nanos(1s));
  EXPECT_TRUE(s.ejected(4));
}

TEST(OutlierDetection, FailurePercentageEjectsAboveTheThreshold) {
  OutlierConfig c = fast_config();
  c.failure_percentage = OutlierConfig::FailurePercentage{25, 5, 50};
  OutlierDetector d(c);
  d.set_endpoints(addresses(6));
  for (size_t i = 0; i < 4; ++i) d.add_counts(i, 100, 0);
  d.add_counts(4, 70, 30);  // 30% > 25%
  d.add_counts(5, 75, 25);  // exactly 25%: not above
  EXPECT_TRUE(d.evaluate(Nanos(1s)));
  EXPECT_TRUE(d.ejected(4));
  EXPECT_FALSE(d.ejected(5));
  EXPECT_EQ(d.endpoints()[4].reason, EjectionReason::kFailurePercentage);
  // Counts are per interval: the next evaluation starts from zero.
  EXPECT_FALSE(d.evaluate(Nanos(2s)));
}

TEST(OutlierDetection, StateFollowsEndpointsThatStayAcrossMembershipChanges) {
  OutlierDetector d(fast_config());
  auto a = addresses(4);
  d.set_endpoints(a);
  d.on_consecutive_failures(2, Nanos(0s));
  d.set_endpoints({a[3], a[2], "10.9.9.9:1"});
  EXPECT_TRUE(d.ejected(1)) << "a[2] is now index 1 and still ejected";
  EXPECT_FALSE(d.ejected(0));
  EXPECT_FALSE(d.ejected(2));
  EXPECT_EQ(d.endpoints()[1].address, a[2]);
}

TEST(OutlierDetection, FailureCodesAreConfigurable) {
  OutlierConfig c;
  EXPECT_TRUE(c.is_failure(14));  // UNAVAILABLE
  EXPECT_TRUE(c.is_failure(4));   // DEADLINE_EXCEEDED
  EXPECT_FALSE(c.is_failure(0));  // OK
  EXPECT_FALSE(c.is_failure(5));  // NOT_FOUND: the application's answer
  c.failure_codes = 1u << 8;      // RESOURCE_EXHAUSTED only
  EXPECT_TRUE(c.is_failure(8));
  EXPECT_FALSE(c.is_failure(14));
  EXPECT_FALSE(c.is_failure(40));
}

}  // namespace
}  // namespace sluice::core
