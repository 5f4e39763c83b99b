// Peak-EWMA math against hand-computed values, and the tracker's in-flight bookkeeping.
#include "core/endpoint_load.h"

#include <gtest/gtest.h>

#include <cmath>
#include <utility>

namespace sluice::core {
namespace {

using namespace std::chrono_literals;
constexpr Nanos kDecay = 10s;
constexpr Nanos kCold = 30ms;

double ms(double ns) { return ns / 1e6; }

TEST(PeakEwma, ColdUntilTheFirstSampleThenThatSample) {
  PeakEwma rtt;
  EXPECT_FALSE(rtt.has_sample());
  EXPECT_DOUBLE_EQ(ms(rtt.estimate_ns(Nanos(5s), kDecay, kCold)), 30.0);
  rtt.observe(100ms, Nanos(5s), kDecay);
  EXPECT_TRUE(rtt.has_sample());
  EXPECT_DOUBLE_EQ(ms(rtt.estimate_ns(Nanos(5s), kDecay, kCold)), 100.0);
}

TEST(PeakEwma, AHigherSampleReplacesTheEstimateAtOnce) {
  PeakEwma rtt;
  rtt.observe(20ms, Nanos(1s), kDecay);
  rtt.observe(200ms, Nanos(1s) + 1ms, kDecay);
  EXPECT_DOUBLE_EQ(ms(rtt.estimate_ns(Nanos(1s) + 1ms, kDecay, kCold)), 200.0);
}

TEST(PeakEwma, ALowerSampleBlendsInByElapsedTime) {
  PeakEwma rtt;
  rtt.observe(100ms, Nanos(0s), kDecay);
  rtt.observe(20ms, Nanos(1s), kDecay);  // w = exp(-1/10) = 0.904837
  const double w = std::exp(-0.1);
  EXPECT_NEAR(ms(rtt.estimate_ns(Nanos(1s), kDecay, kCold)), 100 * w + 20 * (1 - w), 1e-9);
  EXPECT_NEAR(ms(rtt.estimate_ns(Nanos(1s), kDecay, kCold)), 92.3869, 1e-3);
}

TEST(PeakEwma, TheEstimateDecaysTowardZeroWithoutSamples) {
  PeakEwma rtt;
  rtt.observe(200ms, Nanos(0s), kDecay);
  EXPECT_NEAR(ms(rtt.estimate_ns(Nanos(10s), kDecay, kCold)), 200 * std::exp(-1.0), 1e-9);
  EXPECT_NEAR(ms(rtt.estimate_ns(Nanos(23s), kDecay, kCold)), 200 * std::exp(-2.3), 1e-9);
}

TEST(PeakEwma, ACensoredSampleOnlyRaises) {
  PeakEwma rtt;
  rtt.observe_at_least(500ms, Nanos(0s), kDecay);
  EXPECT_FALSE(rtt.has_sample()) << "a lower bound alone says too little";
  rtt.observe(100ms, Nanos(0s), kDecay);
  rtt.observe_at_least(50ms, Nanos(0s), kDecay);
  EXPECT_DOUBLE_EQ(ms(rtt.estimate_ns(Nanos(0s), kDecay, kCold)), 100.0);
  rtt.observe_at_least(300ms, Nanos(0s), kDecay);
  EXPECT_DOUBLE_EQ(ms(rtt.estimate_ns(Nanos(0s), kDecay, kCold)), 300.0);
}

TEST(CallTracker, CountsInFlightAndSamplesTheTimeToHeaders) {
  EndpointLoad load;
  {
    CallTracker tracker(&load, Nanos(1s), kDecay);
    EXPECT_EQ(load.in_flight, 1u);
    tracker.on_response_headers(Nanos(1s) + 40ms);
    tracker.on_response_headers(Nanos(1s) + 90ms);  // only the first counts
    tracker.finish(Nanos(5s));                      // a long stream: not its round trip
    EXPECT_EQ(load.in_flight, 0u);
    tracker.finish(Nanos(6s));  // idempotent
  }
  EXPECT_EQ(load.in_flight, 0u);
  EXPECT_EQ(load.started, 1u);
  EXPECT_EQ(load.finished, 1u);
  EXPECT_DOUBLE_EQ(ms(load.rtt.estimate_ns(Nanos(1s) + 40ms, kDecay, kCold)), 40.0);
}

TEST(CallTracker, WithoutHeadersTheFinishTimeIsTheSample) {
  EndpointLoad load;
  CallTracker tracker(&load, Nanos(0s), kDecay);
  tracker.finish(Nanos(0s) + 70ms);
  EXPECT_DOUBLE_EQ(ms(load.rtt.estimate_ns(Nanos(0s) + 70ms, kDecay, kCold)), 70.0);
}

TEST(CallTracker, DroppedOrMovedTrackersNeverLeakInFlight) {
  EndpointLoad load;
  {
    CallTracker a(&load, Nanos(0s), kDecay);
    CallTracker b(std::move(a));
    CallTracker c;
    c = std::move(b);
    EXPECT_EQ(load.in_flight, 1u);
    c = CallTracker(&load, Nanos(0s), kDecay);  // replacing one ends it
    EXPECT_EQ(load.in_flight, 1u);
    EXPECT_EQ(load.started, 2u);
  }
  EXPECT_EQ(load.in_flight, 0u);
  EXPECT_EQ(load.started, load.finished);
  EXPECT_FALSE(load.rtt.has_sample()) << "abandoned attempts are no sample";
}

TEST(CallTracker, AnUnansweredAttemptOnlyRaisesTheEstimate) {
  EndpointLoad load;
  load.rtt.observe(20ms, Nanos(0s), kDecay);
  CallTracker fast_cancel(&load, Nanos(0s), kDecay);
  fast_cancel.finish_unanswered(Nanos(0s) + 1ms);
  EXPECT_NEAR(ms(load.rtt.estimate_ns(Nanos(0s) + 1ms, kDecay, kCold)), 20.0, 0.01);
  CallTracker timed_out(&load, Nanos(0s), kDecay);
  timed_out.finish_unanswered(Nanos(0s) + 2s);
  EXPECT_DOUBLE_EQ(ms(load.rtt.estimate_ns(Nanos(0s) + 2s, kDecay, kCold)), 2000.0);
  EXPECT_EQ(load.in_flight, 0u);
}

}  // namespace
}  // namespace sluice::core
