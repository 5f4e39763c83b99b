// Shared helpers of the picker tests: endpoint sets, pick loops, a chi-square check.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "core/picker.h"

namespace sluice::core::testing {

inline EndpointSetPtr set_of_weights(const std::vector<uint32_t>& weights) {
  auto set = std::make_shared<EndpointSet>();
  set->version = 1;
  for (size_t i = 0; i < weights.size(); ++i) {
    set->endpoints.push_back(
        Endpoint{"10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + ":50051",
                 weights[i]});
  }
  return set;
}

inline EndpointSetPtr set_of(size_t count) {
  return set_of_weights(std::vector<uint32_t>(count, 1));
}

inline LoadTable loads_for(size_t count) {
  LoadTable loads;
  for (size_t i = 0; i < count; ++i) loads.push_back(std::make_shared<EndpointLoad>());
  return loads;
}

// The index of a successful pick; fails the test on PickFail.
inline size_t picked(const PickResult& result) {
  const auto* complete = std::get_if<PickComplete>(&result);
  EXPECT_NE(complete, nullptr) << "expected PickComplete";
  return complete ? complete->index : ~size_t{0};
}

inline std::vector<int> count_picks(Picker& picker, size_t endpoints, int n,
                                    const TriedSet& tried = {}) {
  std::vector<int> counts(endpoints);
  for (int i = 0; i < n; ++i) ++counts.at(picked(picker.pick(tried)));
  return counts;
}

// Pearson's statistic of observed counts against expected shares (which sum to 1).
inline double chi_square(const std::vector<int>& counts, const std::vector<double>& shares) {
  double total = 0;
  for (int c : counts) total += c;
  double stat = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double expected = total * shares[i];
    stat += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  return stat;
}

}  // namespace sluice::core::testing
