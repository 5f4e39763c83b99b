#include "core/subset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/random.h"

namespace sluice::core {
namespace {

std::vector<Endpoint> make_endpoints(size_t count, size_t first = 0) {
  std::vector<Endpoint> endpoints;
  for (size_t i = first; i < first + count; ++i) {
    endpoints.push_back(
        {"10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + ":50051"});
  }
  return endpoints;
}

std::set<std::string> addresses(const std::vector<Endpoint>& endpoints,
                                const std::vector<size_t>& indices) {
  std::set<std::string> out;
  for (const size_t i : indices) out.insert(endpoints[i].address);
  return out;
}

SubsetParams deterministic(size_t size, uint64_t client, uint64_t clients, uint64_t rotation = 0) {
  return {.size = size,
          .mode = SubsetMode::kDeterministic,
          .client_id = client,
          .client_count = clients,
          .rotation = rotation};
}

SubsetParams rendezvous(size_t size, uint64_t client, uint64_t rotation = 0) {
  return {.size = size, .mode = SubsetMode::kRendezvous, .client_id = client, .rotation = rotation};
}

// Subsets per backend address over clients [0, clients).
std::map<std::string, int> connections(const std::vector<Endpoint>& endpoints, size_t size,
                                       uint64_t clients, SubsetMode mode, uint64_t rotation = 0) {
  std::map<std::string, int> count;
  for (const Endpoint& e : endpoints) count[e.address] = 0;
  for (uint64_t c = 0; c < clients; ++c) {
    SubsetParams params = deterministic(size, c, clients, rotation);
    params.mode = mode;
    for (const size_t i : choose_subset(endpoints, params)) ++count[endpoints[i].address];
  }
  return count;
}

std::pair<int, int> min_max(const std::map<std::string, int>& count) {
  auto [lo, hi] = std::minmax_element(
      count.begin(), count.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  return {lo->second, hi->second};
}

// How many entries of `before` are missing from `after`.
size_t replaced(const std::set<std::string>& before, const std::set<std::string>& after) {
  size_t missing = 0;
  for (const std::string& a : before) missing += after.count(a) == 0;
  return missing;
}

const SubsetMode kModes[] = {SubsetMode::kDeterministic, SubsetMode::kRendezvous};

TEST(ChooseSubset, SizeZeroOrAtLeastCountReturnsAll) {
  const auto endpoints = make_endpoints(7);
  const std::vector<size_t> all = {0, 1, 2, 3, 4, 5, 6};
  for (const SubsetMode mode : kModes) {
    for (const size_t size : {size_t{0}, size_t{7}, size_t{100}}) {
      SubsetParams params = deterministic(size, 3, 10);
      params.mode = mode;
      EXPECT_EQ(choose_subset(endpoints, params), all) << "size " << size;
    }
  }
  EXPECT_TRUE(choose_subset({}, rendezvous(3, 1)).empty());
}

TEST(ChooseSubset, ReturnsExactlySizeDistinctAscendingIndices) {
  for (const SubsetMode mode : kModes) {
    for (const size_t n : {size_t{11}, size_t{30}, size_t{97}}) {
      const auto endpoints = make_endpoints(n);
      for (const size_t size : {size_t{1}, size_t{5}, size_t{10}}) {
        for (uint64_t c = 0; c < 50; ++c) {
          SubsetParams params = deterministic(size, c, 50);
          params.mode = mode;
          const auto chosen = choose_subset(endpoints, params);
          ASSERT_EQ(chosen.size(), size) << "n " << n << " client " << c;
          ASSERT_TRUE(std::is_sorted(chosen.begin(), chosen.end()));
          ASSERT_EQ(std::adjacent_find(chosen.begin(), chosen.end()), chosen.end());
          ASSERT_LT(chosen.back(), n);
        }
      }
    }
  }
}

TEST(ChooseSubset, InputOrderDoesNotChangeTheAddresses) {
  const auto endpoints = make_endpoints(100);
  auto shuffled = endpoints;
  FastRandom random(7);
  for (size_t i = shuffled.size() - 1; i > 0; --i)
    std::swap(shuffled[i], shuffled[random.below(i + 1)]);
  ASSERT_NE(shuffled, endpoints);
  for (const SubsetMode mode : kModes) {
    for (uint64_t c = 0; c < 40; ++c) {
      SubsetParams params = deterministic(7, c, 40, 2);  // 7 does not divide 100: straddles too
      params.mode = mode;
      EXPECT_EQ(addresses(endpoints, choose_subset(endpoints, params)),
                addresses(shuffled, choose_subset(shuffled, params)));
    }
  }
}

TEST(DeterministicSubset, EveryBackendInExactlyFiftySubsets) {
  const auto count = connections(make_endpoints(30), 5, 300, SubsetMode::kDeterministic);
  for (const auto& [address, subsets] : count) EXPECT_EQ(subsets, 50) << address;
}

TEST(DeterministicSubset, ConnectionsDifferByAtMostOne) {
  const auto [lo, hi] =
      min_max(connections(make_endpoints(100), 10, 1000, SubsetMode::kDeterministic));
  EXPECT_LE(hi - lo, 1);
}

TEST(DeterministicSubset, BalancedEvenWhenSizeDoesNotDivideCount) {
  // 1000 clients x 7 over 97 backends: windows straddle shuffle blocks.
  const auto [lo, hi] =
      min_max(connections(make_endpoints(97), 7, 1000, SubsetMode::kDeterministic));
  EXPECT_LE(hi - lo, 1);
}

TEST(DeterministicSubset, ClientsOfOneRoundPartitionTheBackends) {
  const auto endpoints = make_endpoints(30);
  for (const uint64_t round : {0u, 1u, 5u}) {
    std::multiset<std::string> seen;
    for (uint64_t s = 0; s < 6; ++s) {
      const auto chosen =
          addresses(endpoints, choose_subset(endpoints, deterministic(5, round * 6 + s, 60)));
      seen.insert(chosen.begin(), chosen.end());
    }
    EXPECT_EQ(seen.size(), 30u);
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 30u) << "round " << round;
  }
}

TEST(DeterministicSubset, RoundsDiffer) {
  const auto endpoints = make_endpoints(30);
  EXPECT_NE(choose_subset(endpoints, deterministic(5, 0, 60)),
            choose_subset(endpoints, deterministic(5, 6, 60)));
}

TEST(RendezvousSubset, RemovingOneEndpointChangesAtMostOneEntry) {
  const auto endpoints = make_endpoints(100);
  auto fewer = endpoints;
  fewer.erase(fewer.begin() + 42);
  size_t changed_clients = 0;
  for (uint64_t c = 0; c < 1000; ++c) {
    const auto before = addresses(endpoints, choose_subset(endpoints, rendezvous(10, c)));
    const auto after = addresses(fewer, choose_subset(fewer, rendezvous(10, c)));
    const size_t missing = replaced(before, after);
    ASSERT_LE(missing, 1u) << "client " << c;
    if (missing == 1) {
      ASSERT_TRUE(before.count(endpoints[42].address)) << "client " << c;
    }
    changed_clients += missing;
  }
  EXPECT_GT(changed_clients, 0u);  // about 100 clients had the removed endpoint
}

TEST(RendezvousSubset, AddingOneEndpointChangesAtMostOneEntry) {
  const auto endpoints = make_endpoints(100);
  auto more = endpoints;
  more.push_back(make_endpoints(1, 100)[0]);
  size_t changed_clients = 0;
  for (uint64_t c = 0; c < 1000; ++c) {
    const auto before = addresses(endpoints, choose_subset(endpoints, rendezvous(10, c)));
    const auto after = addresses(more, choose_subset(more, rendezvous(10, c)));
    const size_t missing = replaced(before, after);
    ASSERT_LE(missing, 1u) << "client " << c;
    if (missing == 1) {
      ASSERT_TRUE(after.count(more.back().address)) << "client " << c;
    }
    changed_clients += missing;
  }
  EXPECT_GT(changed_clients, 0u);
}

TEST(RendezvousSubset, SpreadIsReasonable) {
  const auto count = connections(make_endpoints(100), 10, 1000, SubsetMode::kRendezvous);
  for (const auto& [address, subsets] : count) {
    EXPECT_GE(subsets, 50) << address;
    EXPECT_LE(subsets, 150) << address;
  }
}

TEST(ChooseSubset, RotationGivesFreshSubsets) {
  const auto endpoints = make_endpoints(100);
  for (const SubsetMode mode : kModes) {
    int differ = 0;
    for (uint64_t c = 0; c < 1000; ++c) {
      SubsetParams params = deterministic(10, c, 1000, 0);
      params.mode = mode;
      const auto first = choose_subset(endpoints, params);
      params.rotation = 1;
      differ += first != choose_subset(endpoints, params);
    }
    EXPECT_GT(differ, 900);
  }
}

TEST(DeterministicSubset, BalancedInEveryRotation) {
  const auto endpoints = make_endpoints(100);
  for (const uint64_t rotation : {1u, 2u, 17u}) {
    const auto [lo, hi] =
        min_max(connections(endpoints, 10, 1000, SubsetMode::kDeterministic, rotation));
    EXPECT_LE(hi - lo, 1) << "rotation " << rotation;
  }
}

TEST(ChooseSubset, KnownSubsetsAreStableAcrossHosts) {
  // Pinned outputs: a change here reshuffles every deployed client's subset.
  const auto endpoints = make_endpoints(20);
  EXPECT_EQ(choose_subset(endpoints, deterministic(4, 3, 10)),
            (std::vector<size_t>{5, 13, 17, 18}));
  EXPECT_EQ(choose_subset(endpoints, rendezvous(4, 3)), (std::vector<size_t>{5, 11, 12, 13}));
}

}  // namespace
}  // namespace sluice::core
