// The health kernel: thresholds, the first check, check scheduling, and eligibility with the
// panic threshold and outlier ejections.
#include "core/health.h"

#include <gtest/gtest.h>

namespace sluice::core {
namespace {

using namespace std::chrono_literals;

HealthCheckConfig thresholds(uint32_t unhealthy, uint32_t healthy) {
  HealthCheckConfig c;
  c.unhealthy_threshold = unhealthy;
  c.healthy_threshold = healthy;
  return c;
}

TEST(HealthCounter, TheFirstResultDecidesAnUnknownEndpoint) {
  const HealthCheckConfig c = thresholds(3, 3);
  HealthCounter passes;
  EXPECT_EQ(passes.state(), Health::kUnknown);
  EXPECT_TRUE(passes.record(true, c));
  EXPECT_EQ(passes.state(), Health::kHealthy);
  HealthCounter fails;
  EXPECT_TRUE(fails.record(false, c));
  EXPECT_EQ(fails.state(), Health::kUnhealthy);
}

TEST(HealthCounter, ItTakesThresholdResultsInARowToChange) {
  const HealthCheckConfig c = thresholds(2, 3);
  HealthCounter h(Health::kHealthy);
  EXPECT_FALSE(h.record(false, c));
  EXPECT_FALSE(h.record(true, c));  // the run of failures starts over
  EXPECT_FALSE(h.record(false, c));
  EXPECT_TRUE(h.record(false, c));
  EXPECT_EQ(h.state(), Health::kUnhealthy);
  EXPECT_FALSE(h.record(true, c));
  EXPECT_FALSE(h.record(true, c));
  EXPECT_FALSE(h.record(false, c));  // starts over again
  EXPECT_FALSE(h.record(true, c));
  EXPECT_FALSE(h.record(true, c));
  EXPECT_TRUE(h.record(true, c));
  EXPECT_EQ(h.state(), Health::kHealthy);
}

TEST(HealthCounter, ThresholdOneChangesOnEveryDisagreement) {
  const HealthCheckConfig c = thresholds(1, 1);
  HealthCounter h(Health::kHealthy);
  EXPECT_TRUE(h.record(false, c));
  EXPECT_FALSE(h.record(false, c));
  EXPECT_TRUE(h.record(true, c));
}

class CountingRandom final : public Random {
 public:
  uint64_t next() override { return value_ += 0x9e3779b97f4a7c15ull; }

 private:
  uint64_t value_ = 0;
};

TEST(NextCheckDelay, FirstChecksSpreadOverTheJitterLaterOnesFollowTraffic) {
  HealthCheckConfig c;
  c.initial_jitter = 1000ms;
  c.interval = 500ms;
  c.no_traffic_interval = 7s;
  CountingRandom random;
  std::chrono::milliseconds lowest = 1000ms, highest = 0ms;
  for (int i = 0; i < 1000; ++i) {
    const auto d = next_check_delay(c, true, true, true, random);
    ASSERT_GE(d, 0ms);
    ASSERT_LT(d, 1000ms);
    lowest = std::min(lowest, d);
    highest = std::max(highest, d);
  }
  EXPECT_LT(lowest, 50ms);
  EXPECT_GT(highest, 950ms);
  EXPECT_EQ(next_check_delay(c, true, false, true, random), 0ms) << "an endpoint added later";
  EXPECT_EQ(next_check_delay(c, false, true, true, random), 500ms);
  EXPECT_EQ(next_check_delay(c, false, true, false, random), 7s);
}

std::vector<bool> bits(const std::string& s) {
  std::vector<bool> out;
  for (char ch : s) out.push_back(ch == '1');
  return out;
}

TEST(ChooseEligible, UnhealthyEndpointsDropOutAboveThePanicThreshold) {
  const Eligibility e = choose_eligible(bits("1101"), {}, 50);
  EXPECT_EQ(e.eligible, bits("1101"));
  EXPECT_FALSE(e.panic);
}

TEST(ChooseEligible, BelowThePanicThresholdEveryEndpointIsUsed) {
  // 1 of 3 healthy = 33% < 50%: all three.
  const Eligibility e = choose_eligible(bits("100"), {}, 50);
  EXPECT_EQ(e.eligible, bits("111"));
  EXPECT_TRUE(e.panic);
  // Exactly at the threshold is not panic: 2 of 4 = 50%.
  EXPECT_FALSE(choose_eligible(bits("1100"), {}, 50).panic);
}

TEST(ChooseEligible, PanicThresholdZeroNeverPanics) {
  const Eligibility e = choose_eligible(bits("000"), {}, 0);
  EXPECT_EQ(e.eligible, bits("000"));
  EXPECT_FALSE(e.panic);
}

TEST(ChooseEligible, EjectionsApplyToTheHealthyButNeverEmptyTheSet) {
  EXPECT_EQ(choose_eligible(bits("1110"), bits("0100"), 50).eligible, bits("1010"));
  // Without health checks: ejections alone, and all ejected means all used.
  EXPECT_EQ(choose_eligible({}, bits("010"), 50).eligible, bits("101"));
  EXPECT_EQ(choose_eligible({}, bits("111"), 50).eligible, bits("111"));
  // The one healthy endpoint is ejected: the healthy set stays (ejection cannot empty it).
  EXPECT_EQ(choose_eligible(bits("1100"), bits("1100"), 25).eligible, bits("1100"));
}

TEST(ChooseEligible, NoHealthNoEjectionsEverythingIsEligible) {
  EXPECT_TRUE(choose_eligible({}, {}, 50).eligible.empty());
}

}  // namespace
}  // namespace sluice::core
