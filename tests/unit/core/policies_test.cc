// The policies beyond round robin: distributions, weights, load feedback, ring consistency,
// and that every one of them honours the tried set.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "core/hash.h"
#include "core/p2c_pickers.h"
#include "core/random_pickers.h"
#include "core/ring_hash_picker.h"
#include "core/weighted_round_robin_picker.h"
#include "picker_test_util.h"

namespace sluice::core {
namespace {

using namespace std::chrono_literals;
using testing::chi_square;
using testing::count_picks;
using testing::loads_for;
using testing::picked;
using testing::set_of;
using testing::set_of_weights;

constexpr double kChiSquare2 = 13.8;  // df 2, p = 0.001
constexpr double kChiSquare9 = 27.9;  // df 9, p = 0.001

PolicyConfig policy(PolicyKind kind) {
  PolicyConfig config;
  config.kind = kind;
  config.hash_header = "x-key";
  return config;
}

TEST(WeightedRoundRobin, SharesFollowWeightsExactlyAndSmoothly) {
  FastRandom random(7);
  WeightedRoundRobinPicker picker(set_of_weights({1, 1, 2}), random);
  std::vector<size_t> order;
  for (int i = 0; i < 4000; ++i) order.push_back(picked(picker.pick(TriedSet{})));
  std::vector<int> counts(3);
  for (size_t i : order) ++counts[i];
  EXPECT_NEAR(counts[0], 1000, 1);
  EXPECT_NEAR(counts[1], 1000, 1);
  EXPECT_NEAR(counts[2], 2000, 1);
  // Smooth: within every window of four picks each endpoint gets its share, give or take one.
  for (size_t start = 0; start + 4 <= order.size(); ++start) {
    const auto heavy = std::count(order.begin() + start, order.begin() + start + 4, size_t{2});
    EXPECT_GE(heavy, 1);
    EXPECT_LE(heavy, 3);
  }
}

TEST(WeightedRoundRobin, EqualWeightsRotate) {
  FastRandom random(1);
  WeightedRoundRobinPicker picker(set_of(5), random);
  EXPECT_EQ(count_picks(picker, 5, 5000), (std::vector<int>{1000, 1000, 1000, 1000, 1000}));
}

TEST(WeightedRoundRobin, SkipsTriedAndKeepsTheRestInProportion) {
  FastRandom random(3);
  WeightedRoundRobinPicker picker(set_of_weights({1, 3, 1}), random);
  TriedSet tried;
  tried.add(1);
  const auto counts = count_picks(picker, 3, 2000, tried);
  EXPECT_EQ(counts[1], 0);
  EXPECT_NEAR(counts[0], 1000, 2);
}

TEST(WeightedRoundRobin, HugeWeightsAreScaledIntoABoundedCycle) {
  FastRandom random(3);
  WeightedRoundRobinPicker picker(set_of_weights({1, 1000000, 250000}), random);
  EXPECT_LE(picker.cycle_length(), WeightedRoundRobinPicker::kMaxCycle + 3);
  const auto counts = count_picks(picker, 3, static_cast<int>(picker.cycle_length()));
  EXPECT_EQ(counts[0], 1) << "the lightest keeps its slot";
  EXPECT_NEAR(static_cast<double>(counts[1]) / counts[2], 4.0, 0.01);
}

TEST(LeastRequest, TwoEndpointsAlwaysGiveTheLessLoadedOne) {
  FastRandom random(1);
  auto loads = loads_for(2);
  loads[0]->in_flight = 5;
  LeastRequestPicker picker(set_of(2), loads, policy(PolicyKind::kLeastRequest), random);
  EXPECT_EQ(count_picks(picker, 2, 1000), (std::vector<int>{0, 1000}))
      << "the two choices are distinct endpoints";
}

TEST(LeastRequest, IdleEndpointsShareUniformly) {
  FastRandom random(11);
  LeastRequestPicker picker(set_of(10), loads_for(10), policy(PolicyKind::kLeastRequest), random);
  const auto counts = count_picks(picker, 10, 50000);
  EXPECT_LT(chi_square(counts, std::vector<double>(10, 0.1)), kChiSquare9);
}

TEST(LeastRequest, TheMostLoadedOfThreeIsNeverPicked) {
  FastRandom random(5);
  auto loads = loads_for(3);
  loads[0]->in_flight = 1;
  loads[1]->in_flight = 2;
  loads[2]->in_flight = 9;
  LeastRequestPicker picker(set_of(3), loads, policy(PolicyKind::kLeastRequest), random);
  const auto counts = count_picks(picker, 3, 3000);
  EXPECT_EQ(counts[2], 0);
  // 0 wins whenever sampled (2 of 3 pairs), 1 only against 2 (1 of 3).
  EXPECT_NEAR(counts[0], 2000, 120);
  EXPECT_NEAR(counts[1], 1000, 120);
}

TEST(LeastRequest, WeightDividesTheLoad) {
  FastRandom random(5);
  auto loads = loads_for(2);
  loads[0]->in_flight = 3;  // weight 4: (3+1)/4 = 1
  loads[1]->in_flight = 1;  // weight 1: (1+1)/1 = 2
  LeastRequestPicker picker(set_of_weights({4, 1}), loads, policy(PolicyKind::kLeastRequest),
                            random);
  EXPECT_EQ(count_picks(picker, 2, 100)[0], 100);
  PolicyConfig no_bias = policy(PolicyKind::kLeastRequest);
  no_bias.active_request_bias = 0.0;  // weight alone decides
  loads[0]->in_flight = 50;
  LeastRequestPicker weight_only(set_of_weights({4, 1}), loads, no_bias, random);
  EXPECT_EQ(count_picks(weight_only, 2, 100)[0], 100);
}

TEST(LeastRequest, ChoiceCountAboveTheSetSizeComparesAll) {
  FastRandom random(9);
  auto loads = loads_for(4);
  for (size_t i = 0; i < 4; ++i) loads[i]->in_flight = 10;
  loads[3]->in_flight = 0;
  PolicyConfig config = policy(PolicyKind::kLeastRequest);
  config.choice_count = 10;
  LeastRequestPicker picker(set_of(4), loads, config, random);
  EXPECT_EQ(count_picks(picker, 4, 200)[3], 200);
}

TEST(PeakEwma, TheSlowEndpointLosesEveryComparison) {
  FastRandom random(2);
  auto loads = loads_for(3);
  loads[0]->rtt.observe(20ms, Nanos(1s), 10s);
  loads[1]->rtt.observe(20ms, Nanos(1s), 10s);
  loads[2]->rtt.observe(200ms, Nanos(1s), 10s);
  PeakEwmaPicker picker(set_of(3), loads, policy(PolicyKind::kPeakEwma), random);
  std::vector<int> counts(3);
  for (int i = 0; i < 3000; ++i) {
    ++counts[picked(picker.pick(PickContext{TriedSet{}, Nanos(1s) + 1ms, std::nullopt}))];
  }
  EXPECT_EQ(counts[2], 0);
  EXPECT_NEAR(counts[0], 1500, 150);
}

TEST(PeakEwma, InFlightCallsMultiplyTheCost) {
  FastRandom random(2);
  auto loads = loads_for(2);
  loads[0]->rtt.observe(20ms, Nanos(0s), 10s);
  loads[1]->rtt.observe(100ms, Nanos(0s), 10s);
  loads[0]->in_flight = 9;  // 20 ms * 10 = 200 > 100 ms * 1
  PeakEwmaPicker picker(set_of(2), loads, policy(PolicyKind::kPeakEwma), random);
  EXPECT_EQ(picked(picker.pick(PickContext{TriedSet{}, Nanos(0s), std::nullopt})), 1u);
}

TEST(PeakEwma, ColdEndpointsCountTheDefaultRttAndSlowOnesRecoverByDecay) {
  FastRandom random(2);
  auto loads = loads_for(2);
  loads[0]->rtt.observe(100ms, Nanos(0s), 10s);
  PeakEwmaPicker picker(set_of(2), loads, policy(PolicyKind::kPeakEwma), random);
  // Cold endpoint 1 counts 30 ms: cheaper than 100 ms.
  EXPECT_EQ(picked(picker.pick(PickContext{TriedSet{}, Nanos(0s), std::nullopt})), 1u);
  loads[1]->rtt.observe(50ms, Nanos(0s), 10s);
  EXPECT_EQ(picked(picker.pick(PickContext{TriedSet{}, Nanos(0s), std::nullopt})), 1u);
  // 100 ms decays below 50 ms sampled at the same time? No: both decay alike. Resample 1 late.
  loads[1]->rtt.observe(50ms, Nanos(20s), 10s);  // a fresh 50 ms at t=20 s
  // At t=20 s endpoint 0's 100 ms has decayed to 100 * e^-2 = 13.5 ms: it gets probed again.
  EXPECT_EQ(picked(picker.pick(PickContext{TriedSet{}, Nanos(20s), std::nullopt})), 0u);
}

TEST(RingHash, TheSameKeyAlwaysReachesTheSameEndpoint) {
  FastRandom random(1);
  RingHashPicker picker(set_of(10), policy(PolicyKind::kRingHash), random);
  for (int k = 0; k < 200; ++k) {
    const uint64_t key = stable_hash("user-" + std::to_string(k));
    const size_t first = picked(picker.pick(PickContext{TriedSet{}, Nanos(0), key}));
    for (int again = 0; again < 5; ++again) {
      EXPECT_EQ(picked(picker.pick(PickContext{TriedSet{}, Nanos(0), key})), first);
    }
  }
}

TEST(RingHash, AddingOneOfElevenMovesAboutANinthOfTheKeysAllToTheNewcomer) {
  FastRandom random(1);
  RingHashPicker before(set_of(10), policy(PolicyKind::kRingHash), random);
  RingHashPicker after(set_of(11), policy(PolicyKind::kRingHash), random);
  int moved = 0;
  constexpr int kKeys = 20000;
  std::vector<int> load(10);
  for (int k = 0; k < kKeys; ++k) {
    const uint64_t key = stable_hash("session-" + std::to_string(k));
    const size_t a = picked(before.pick(PickContext{TriedSet{}, Nanos(0), key}));
    const size_t b = picked(after.pick(PickContext{TriedSet{}, Nanos(0), key}));
    ++load[a];
    if (a != b) {
      ++moved;
      EXPECT_EQ(b, 10u) << "a key moves only to the new endpoint";
    }
  }
  EXPECT_GT(moved, kKeys / 11 / 2);
  EXPECT_LT(moved, kKeys / 11 * 2);
  // And the ring spreads keys: every endpoint within 50% of its share.
  for (int n : load) EXPECT_NEAR(n, kKeys / 10, kKeys / 20);
}

TEST(RingHash, WeightsGiveProportionalShares) {
  FastRandom random(1);
  RingHashPicker picker(set_of_weights({1, 1, 2}), policy(PolicyKind::kRingHash), random);
  std::vector<int> counts(3);
  for (int k = 0; k < 40000; ++k) {
    ++counts[picked(
        picker.pick(PickContext{TriedSet{}, Nanos(0), stable_hash(std::to_string(k))}))];
  }
  EXPECT_NEAR(counts[2] / 40000.0, 0.5, 0.05);
  EXPECT_NEAR(counts[0] / 40000.0, 0.25, 0.05);
}

TEST(RingHash, RingSizeFollowsTheBounds) {
  FastRandom random(1);
  PolicyConfig config = policy(PolicyKind::kRingHash);
  EXPECT_GE(RingHashPicker(set_of(3), config, random).ring_size(), 1024u);
  config.min_ring_size = 16;
  config.max_ring_size = 64;
  const size_t small = RingHashPicker(set_of_weights({1, 100}), config, random).ring_size();
  EXPECT_LE(small, 66u) << "capped, plus at least one point per endpoint";
  EXPECT_GE(small, 2u);
}

TEST(RingHash, NoKeyIsARandomPickAndARetryWalksOnFromHome) {
  FastRandom random(4);
  RingHashPicker picker(set_of(3), policy(PolicyKind::kRingHash), random);
  EXPECT_LT(chi_square(count_picks(picker, 3, 30000), {1 / 3.0, 1 / 3.0, 1 / 3.0}), kChiSquare2);
  const uint64_t key = stable_hash("k");
  TriedSet tried;
  tried.add(picked(picker.pick(PickContext{tried, Nanos(0), key})));
  const size_t second = picked(picker.pick(PickContext{tried, Nanos(0), key}));
  EXPECT_FALSE(tried.contains(second));
  EXPECT_EQ(picked(picker.pick(PickContext{tried, Nanos(0), key})), second) << "deterministic";
}

TEST(RandomPolicy, UniformAndWeighted) {
  FastRandom random(8);
  RandomPicker uniform(set_of(3), random);
  EXPECT_LT(chi_square(count_picks(uniform, 3, 30000), {1 / 3.0, 1 / 3.0, 1 / 3.0}), kChiSquare2);
  RandomPicker weighted(set_of_weights({1, 1, 2}), random);
  EXPECT_LT(chi_square(count_picks(weighted, 3, 40000), {0.25, 0.25, 0.5}), kChiSquare2);
  RandomPicker skewed(set_of_weights({1, 10, 100, 3, 6}), random);  // alias slots both ways
  EXPECT_LT(chi_square(count_picks(skewed, 5, 240000),
                       {1 / 120.0, 10 / 120.0, 100 / 120.0, 3 / 120.0, 6 / 120.0}),
            18.5);  // df 4, p = 0.001
}

TEST(PickFirst, FirstUntriedInOrder) {
  PickFirstPicker picker(set_of(3));
  TriedSet tried;
  EXPECT_EQ(picked(picker.pick(tried)), 0u);
  tried.add(0);
  EXPECT_EQ(picked(picker.pick(tried)), 1u);
  tried.add(1);
  tried.add(2);
  EXPECT_EQ(picked(picker.pick(tried)), 0u) << "all tried: back to the first";
}

TEST(EveryPolicy, HonoursTheTriedSetAndSurvivesLargeSets) {
  FastRandom random(1);
  for (PolicyKind kind : {PolicyKind::kRoundRobin, PolicyKind::kWeightedRoundRobin,
                          PolicyKind::kLeastRequest, PolicyKind::kPeakEwma, PolicyKind::kRingHash,
                          PolicyKind::kRandom, PolicyKind::kPickFirst}) {
    auto picker = make_picker(policy(kind), set_of(3), loads_for(3), random);
    TriedSet tried;
    tried.add(0);
    tried.add(2);
    for (int i = 0; i < 100; ++i) {
      EXPECT_EQ(picked(picker->pick(PickContext{tried, Nanos(0), stable_hash("x")})), 1u)
          << policy_name(kind);
    }
    auto big = make_picker(policy(kind), set_of(5000), loads_for(5000), random);
    TriedSet some;
    for (size_t i = 0; i < 7; ++i) some.add(i * 3);
    for (int i = 0; i < 100; ++i) {
      const size_t index = picked(big->pick(PickContext{some, Nanos(0), std::nullopt}));
      EXPECT_LT(index, 5000u);
      EXPECT_FALSE(some.contains(index)) << policy_name(kind);
    }
  }
}

}  // namespace
}  // namespace sluice::core
