#include "discovery/dns_refresh.h"

#include <gtest/gtest.h>

namespace sluice::discovery {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr double kMiddle = 0.5;  // no jitter: factor 1.0
const milliseconds kMin{1000};
const milliseconds kMax{30000};

TEST(DnsRefresh, TtlInsideTheBoundsIsUsedAsIs) {
  EXPECT_EQ(refresh_after_answer(seconds(5), kMin, kMax, kMiddle), milliseconds(5000));
}

TEST(DnsRefresh, TtlIsClampedToMinAndMaxRefresh) {
  EXPECT_EQ(refresh_after_answer(seconds(0), kMin, kMax, kMiddle), kMin);  // TTL 0: not a loop
  EXPECT_EQ(refresh_after_answer(seconds(-3), kMin, kMax, kMiddle), kMin);
  EXPECT_EQ(refresh_after_answer(seconds(3600), kMin, kMax, kMiddle), kMax);
  EXPECT_EQ(refresh_after_answer(seconds(1), milliseconds(200), kMax, kMiddle), milliseconds(1000));
}

TEST(DnsRefresh, JitterIsTenPercentEitherWay) {
  EXPECT_EQ(refresh_after_answer(seconds(10), kMin, kMax, 0.0), milliseconds(9000));
  EXPECT_EQ(refresh_after_answer(seconds(10), kMin, kMax, 0.25), milliseconds(9500));
  EXPECT_EQ(refresh_after_answer(seconds(10), kMin, kMax, 0.999999), milliseconds(10999));
  // Out-of-range random values are clamped, never a negative or a doubled delay.
  EXPECT_EQ(refresh_after_answer(seconds(10), kMin, kMax, -4.0), milliseconds(9000));
  EXPECT_EQ(refresh_after_answer(seconds(10), kMin, kMax, 7.0), milliseconds(11000));
}

TEST(DnsRefresh, JitterAppliesAfterClamping) {
  EXPECT_EQ(refresh_after_answer(seconds(0), kMin, kMax, 0.0), milliseconds(900));
  EXPECT_EQ(refresh_after_answer(seconds(99), kMin, kMax, 0.999999), milliseconds(32999));
}

TEST(DnsRefresh, EqualBoundsPinTheDelay) {
  EXPECT_EQ(refresh_after_answer(seconds(60), seconds(2), seconds(2), kMiddle), seconds(2));
  EXPECT_EQ(refresh_after_answer(seconds(0), seconds(2), seconds(2), kMiddle), seconds(2));
}

TEST(DnsRefresh, FailureBackoffDoublesFromTwiceMinRefreshUpToMaxRefresh) {
  EXPECT_EQ(refresh_after_failure(1, kMin, kMax, kMiddle), milliseconds(2000));
  EXPECT_EQ(refresh_after_failure(2, kMin, kMax, kMiddle), milliseconds(4000));
  EXPECT_EQ(refresh_after_failure(3, kMin, kMax, kMiddle), milliseconds(8000));
  EXPECT_EQ(refresh_after_failure(4, kMin, kMax, kMiddle), milliseconds(16000));
  EXPECT_EQ(refresh_after_failure(5, kMin, kMax, kMiddle), kMax);
  EXPECT_EQ(refresh_after_failure(1000000, kMin, kMax, kMiddle), kMax);  // no overflow
}

TEST(DnsRefresh, FailureBackoffIsJitteredAndCappedEvenAtTheStart) {
  EXPECT_EQ(refresh_after_failure(1, kMin, kMax, 0.0), milliseconds(1800));
  EXPECT_EQ(refresh_after_failure(9, kMin, kMax, 0.0), milliseconds(27000));
  // max_refresh below 2 x min_refresh: the first retry already waits max_refresh.
  EXPECT_EQ(refresh_after_failure(1, kMin, milliseconds(1500), kMiddle), milliseconds(1500));
}

}  // namespace
}  // namespace sluice::discovery
