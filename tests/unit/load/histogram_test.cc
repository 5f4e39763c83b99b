// The histogram's bucket math and percentiles, checked against exact sorted-array answers.
#include "load/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace sluice::load {
namespace {

TEST(Histogram, EmptyReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.percentile(99), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 0; v < 256; ++v) h.record(v);
  EXPECT_EQ(h.percentile(50), 127u);  // rank 128 of 256 values 0..255
  EXPECT_EQ(h.percentile(100), 255u);
  EXPECT_EQ(h.percentile(0), 0u);
  EXPECT_DOUBLE_EQ(h.mean(), 127.5);
}

TEST(Histogram, BucketsTileTheWholeRangeWithoutGapsOrOverlap) {
  // Consecutive buckets: each starts right after the previous one ends, up to UINT64_MAX.
  size_t bucket = 0;
  uint64_t expected_low = 0;
  for (;;) {
    ASSERT_EQ(Histogram::lowest_in(bucket), expected_low) << bucket;
    const uint64_t high = Histogram::highest_in(bucket);
    ASSERT_GE(high, expected_low);
    ASSERT_EQ(Histogram::bucket_of(expected_low), bucket);
    ASSERT_EQ(Histogram::bucket_of(high), bucket);
    if (high == UINT64_MAX) break;
    expected_low = high + 1;
    ++bucket;
  }
  EXPECT_EQ(bucket, Histogram::bucket_of(UINT64_MAX));
}

TEST(Histogram, BucketWidthIsWithinOnePart_In128) {
  for (uint64_t v : {300ull, 1000ull, 123456ull, 987654321ull, 1ull << 40, (1ull << 63) + 5}) {
    const size_t b = Histogram::bucket_of(v);
    const double width = static_cast<double>(Histogram::highest_in(b) - Histogram::lowest_in(b));
    EXPECT_LE(width / static_cast<double>(Histogram::lowest_in(b)), 1.0 / 128) << v;
  }
}

TEST(Histogram, PercentilesMatchTheExactAnswerWithinTheResolution) {
  std::mt19937_64 rng(42);
  // Latency-like: log-normal around 400 us with a long tail, in nanoseconds.
  std::lognormal_distribution<double> dist(std::log(400'000.0), 0.8);
  std::vector<uint64_t> values;
  Histogram h;
  for (int i = 0; i < 200'000; ++i) {
    const auto v = static_cast<uint64_t>(dist(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {50.0, 90.0, 99.0, 99.9, 99.99}) {
    const auto rank = static_cast<size_t>(std::ceil(p / 100 * values.size()));
    const double exact = static_cast<double>(values[rank - 1]);
    const double got = static_cast<double>(h.percentile(p));
    EXPECT_GE(got, exact) << "p" << p;  // the bucket's upper edge
    EXPECT_LE(got, exact * (1 + 1.0 / 128)) << "p" << p;
  }
  EXPECT_EQ(h.percentile(100), values.back());
  EXPECT_EQ(h.min(), values.front());
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  Histogram a, b, all;
  for (uint64_t v = 1; v < 100'000; v += 7) {
    ((v % 2) ? a : b).record(v * 13);
    all.record(v * 13);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double p : {1.0, 50.0, 99.0, 99.9}) EXPECT_EQ(a.percentile(p), all.percentile(p));
}

TEST(Histogram, PercentileNeverExceedsTheMaximum) {
  Histogram h;
  h.record(1000);
  h.record(1001);
  EXPECT_EQ(h.percentile(100), 1001u);
  EXPECT_EQ(h.percentile(99.9), 1001u);
}

}  // namespace
}  // namespace sluice::load
