#include "core/picker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "core/random.h"

namespace sluice::core {
namespace {

EndpointSetPtr make_set(size_t count) {
  auto set = std::make_shared<EndpointSet>();
  set->version = 1;
  for (size_t i = 0; i < count; ++i) {
    set->endpoints.push_back(Endpoint{"10.0.0." + std::to_string(i + 1) + ":50051"});
  }
  return set;
}

// The index of a successful pick; fails the test on PickFail.
size_t picked(const PickResult& result) {
  const auto* complete = std::get_if<PickComplete>(&result);
  EXPECT_NE(complete, nullptr) << "expected PickComplete";
  return complete ? complete->index : ~size_t{0};
}

std::vector<size_t> pick_n(Picker& picker, int n, const TriedSet& tried = {}) {
  std::vector<size_t> out;
  for (int i = 0; i < n; ++i) out.push_back(picked(picker.pick(tried)));
  return out;
}

TEST(TriedSet, AddContainsSize) {
  TriedSet tried;
  EXPECT_EQ(tried.size(), 0u);
  EXPECT_FALSE(tried.contains(0));
  tried.add(3);
  tried.add(5);
  EXPECT_TRUE(tried.contains(3));
  EXPECT_TRUE(tried.contains(5));
  EXPECT_FALSE(tried.contains(4));
  EXPECT_EQ(tried.size(), 2u);
}

TEST(TriedSet, IgnoresDuplicates) {
  TriedSet tried;
  tried.add(1);
  tried.add(1);
  EXPECT_EQ(tried.size(), 1u);
}

TEST(TriedSet, DropsAdditionsBeyondCapacity) {
  TriedSet tried;
  for (size_t i = 0; i < TriedSet::kMax + 3; ++i) tried.add(i);
  EXPECT_EQ(tried.size(), TriedSet::kMax);
  EXPECT_TRUE(tried.contains(TriedSet::kMax - 1));
  EXPECT_FALSE(tried.contains(TriedSet::kMax));
}

TEST(RoundRobinPicker, RotatesInOrder) {
  RoundRobinPicker picker(make_set(3), 0);
  EXPECT_EQ(pick_n(picker, 7), (std::vector<size_t>{0, 1, 2, 0, 1, 2, 0}));
}

TEST(RoundRobinPicker, StartsAtOffset) {
  RoundRobinPicker picker(make_set(4), 2);
  EXPECT_EQ(pick_n(picker, 5), (std::vector<size_t>{2, 3, 0, 1, 2}));
}

TEST(RoundRobinPicker, StartWrapsModuloSize) {
  RoundRobinPicker picker(make_set(3), 3 * 1'000'000'007ULL + 1);
  EXPECT_EQ(pick_n(picker, 3), (std::vector<size_t>{1, 2, 0}));
}

TEST(RoundRobinPicker, SingleEndpoint) {
  RoundRobinPicker picker(make_set(1), 5);
  EXPECT_EQ(pick_n(picker, 3), (std::vector<size_t>{0, 0, 0}));
}

TEST(RoundRobinPicker, EmptySetFails) {
  RoundRobinPicker picker(make_set(0), 0);
  const PickResult result = picker.pick(TriedSet{});
  const auto* fail = std::get_if<PickFail>(&result);
  ASSERT_NE(fail, nullptr);
  EXPECT_EQ(fail->reason, "no endpoints");
}

TEST(RoundRobinPicker, NullSetFails) {
  RoundRobinPicker picker(nullptr, 0);
  EXPECT_TRUE(std::holds_alternative<PickFail>(picker.pick(TriedSet{})));
}

TEST(RoundRobinPicker, SkipsTriedEndpoint) {
  RoundRobinPicker picker(make_set(4), 1);
  TriedSet tried;
  tried.add(1);
  EXPECT_EQ(picked(picker.pick(tried)), 2u);
  // The rotation continues after the endpoint actually chosen.
  EXPECT_EQ(picked(picker.pick(TriedSet{})), 3u);
}

TEST(RoundRobinPicker, SkipsRunOfTriedEndpointsAcrossTheWrap) {
  RoundRobinPicker picker(make_set(5), 3);
  TriedSet tried;
  tried.add(3);
  tried.add(4);
  tried.add(0);
  EXPECT_EQ(picked(picker.pick(tried)), 1u);
}

TEST(RoundRobinPicker, FindsTheOnlyUntriedEndpoint) {
  for (size_t untried = 0; untried < 6; ++untried) {
    for (uint64_t start = 0; start < 6; ++start) {
      RoundRobinPicker picker(make_set(6), start);
      TriedSet tried;
      for (size_t i = 0; i < 6; ++i) {
        if (i != untried) tried.add(i);
      }
      EXPECT_EQ(picked(picker.pick(tried)), untried) << "start=" << start;
    }
  }
}

TEST(RoundRobinPicker, AllTriedStillPicksInOrder) {
  RoundRobinPicker picker(make_set(3), 1);
  TriedSet tried;
  tried.add(0);
  tried.add(1);
  tried.add(2);
  EXPECT_EQ(pick_n(picker, 4, tried), (std::vector<size_t>{1, 2, 0, 1}));
}

TEST(RoundRobinPicker, TriedIndicesOutsideTheSetAreHarmless) {
  // A retry may carry indices from an older, larger set.
  RoundRobinPicker picker(make_set(2), 0);
  TriedSet tried;
  tried.add(7);
  tried.add(9);
  tried.add(0);
  EXPECT_EQ(picked(picker.pick(tried)), 1u);
}

TEST(RoundRobinPicker, SpreadsEvenly) {
  RoundRobinPicker picker(make_set(3), 2);
  std::vector<int> counts(3);
  for (size_t index : pick_n(picker, 3000)) ++counts[index];
  EXPECT_EQ(counts, (std::vector<int>{1000, 1000, 1000}));
}

TEST(MakePicker, RoundRobinStartsAtRandomOffset) {
  // The same seed gives the same start as below() on an identical generator.
  FastRandom random(2024);
  FastRandom reference(2024);
  const size_t expected_start = reference.below(5);
  auto picker = make_picker(PolicyConfig{}, make_set(5), {}, random);
  ASSERT_NE(picker, nullptr);
  EXPECT_EQ(picked(picker->pick(TriedSet{})), expected_start);
  EXPECT_EQ(picked(picker->pick(TriedSet{})), (expected_start + 1) % 5);
}

TEST(MakePicker, StartOffsetsVaryAcrossWorkers) {
  FastRandom random(1);
  std::vector<bool> seen(8);
  for (int worker = 0; worker < 64; ++worker) {
    seen[picked(make_picker(PolicyConfig{}, make_set(8), {}, random)->pick(TriedSet{}))] = true;
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 8);
}

TEST(MakePicker, EmptySetBuildsAFailingPicker) {
  FastRandom random(1);
  auto picker = make_picker(PolicyConfig{}, make_set(0), {}, random);
  ASSERT_NE(picker, nullptr);
  EXPECT_TRUE(std::holds_alternative<PickFail>(picker->pick(TriedSet{})));
}

TEST(MakePicker, EveryPolicyBuildsAPickerThatPicksAnEndpoint) {
  FastRandom random(1);
  for (const char* name : {"round_robin", "weighted_round_robin", "least_request", "peak_ewma",
                           "ring_hash", "random", "pick_first"}) {
    PolicyConfig config;
    config.kind = *policy_from_name(name);
    auto picker = make_picker(config, make_set(3), {}, random);
    ASSERT_NE(picker, nullptr) << name;
    EXPECT_LT(picked(picker->pick(TriedSet{})), 3u) << name;
    EXPECT_EQ(policy_name(config.kind), name);
    auto empty = make_picker(config, make_set(0), {}, random);
    EXPECT_TRUE(std::holds_alternative<PickFail>(empty->pick(TriedSet{}))) << name;
  }
  EXPECT_FALSE(policy_from_name("no_such_policy"));
}

}  // namespace
}  // namespace sluice::core
