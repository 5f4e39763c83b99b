#include "core/random.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace sluice::core {
namespace {

TEST(FastRandom, SameSeedSameSequence) {
  FastRandom a(42);
  FastRandom b(42);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.next(), b.next());
}

TEST(FastRandom, DifferentSeedsDiffer) {
  FastRandom a(1);
  FastRandom b(2);
  int equal = 0;
  for (int i = 0; i < 100; ++i) equal += a.next() == b.next();
  EXPECT_EQ(equal, 0);
}

TEST(FastRandom, ZeroSeedIsNotStuck) {
  // A raw all-zero xoshiro state would return 0 forever; splitmix64 seeding prevents that.
  FastRandom random(0);
  uint64_t seen_bits = 0;
  for (int i = 0; i < 64; ++i) seen_bits |= random.next();
  EXPECT_EQ(seen_bits, ~uint64_t{0});
}

TEST(FastRandom, KnownFirstOutputsForSeedZero) {
  // Pins the algorithm: splitmix64(0) seeding + xoshiro256**. A change here changes every
  // seeded test and simulation in the project, so it must be deliberate.
  FastRandom random(0);
  FastRandom again(0);
  const uint64_t first = random.next();
  EXPECT_EQ(first, again.next());
  EXPECT_EQ(first, 0x99ec5f36cb75f2b4ULL);
}

TEST(RandomBelow, StaysInBounds) {
  FastRandom random(7);
  for (uint64_t n : {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{10}, uint64_t{1000},
                     (uint64_t{1} << 63) + 1, ~uint64_t{0}}) {
    for (int i = 0; i < 2000; ++i) ASSERT_LT(random.below(n), n) << "n=" << n;
  }
}

TEST(RandomBelow, OneAndZeroGiveZero) {
  FastRandom random(7);
  EXPECT_EQ(random.below(1), 0u);
  EXPECT_EQ(random.below(0), 0u);
}

TEST(RandomBelow, RoughlyUniform) {
  FastRandom random(12345);
  constexpr int kBuckets = 7;
  constexpr int kDraws = 70'000;
  std::array<int, kBuckets> counts{};
  for (int i = 0; i < kDraws; ++i) ++counts[random.below(kBuckets)];
  // Expected 10000 each; the standard deviation is ~93, so +-5% is > 5 sigma.
  for (int count : counts) {
    EXPECT_GT(count, 9'500);
    EXPECT_LT(count, 10'500);
  }
}

TEST(RandomBelow, UnbiasedForHugeN) {
  // With n = 2/3 of 2^64, a plain modulo makes values below n/2 twice as likely as the rest:
  // about 2/3 of the draws would land in the lower half of [0, n) instead of 1/2.
  FastRandom random(99);
  const uint64_t n = (~uint64_t{0} / 3) * 2;
  int lower_half = 0;
  constexpr int kDraws = 20'000;
  for (int i = 0; i < kDraws; ++i) lower_half += random.below(n) < n / 2;
  EXPECT_GT(lower_half, kDraws * 47 / 100);
  EXPECT_LT(lower_half, kDraws * 53 / 100);
}

// A scripted source: proves below() rejects the biased zone instead of returning from it.
class ScriptedRandom final : public Random {
 public:
  explicit ScriptedRandom(std::vector<uint64_t> values) : values_(std::move(values)) {}
  uint64_t next() override { return values_.at(i_++); }
  size_t used() const { return i_; }

 private:
  std::vector<uint64_t> values_;
  size_t i_ = 0;
};

TEST(RandomBelow, RejectsDrawsInTheBiasedZone) {
  // n = 3: 2^64 mod 3 = 1, so only the draw whose low product word is 0 is rejected: x = 0.
  ScriptedRandom random({0, ~uint64_t{0}});
  EXPECT_EQ(random.below(3), 2u);
  EXPECT_EQ(random.used(), 2u);
}

TEST(Jittered, StaysWithinTheSpreadAndUsesAllOfIt) {
  FastRandom random(7);
  const std::chrono::milliseconds base(1000);
  int64_t lo = 2000, hi = 0;
  for (int i = 0; i < 10000; ++i) {
    const auto v = jittered(base, 0.1, random).count();
    ASSERT_GE(v, 900);
    ASSERT_LE(v, 1100);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_LT(lo, 910);
  EXPECT_GT(hi, 1090);
  EXPECT_EQ(jittered(std::chrono::milliseconds(0), 0.2, random).count(), 0);
}

}  // namespace
}  // namespace sluice::core
