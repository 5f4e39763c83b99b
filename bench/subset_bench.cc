// Cost of one choose_subset call (size 20) as the cluster grows, for both modes.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/subset.h"

namespace sluice {
namespace {

std::vector<core::Endpoint> make_endpoints(size_t count) {
  std::vector<core::Endpoint> endpoints;
  for (size_t i = 0; i < count; ++i) {
    endpoints.push_back(
        {"10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + ":50051"});
  }
  return endpoints;
}

void run(benchmark::State& state, core::SubsetMode mode) {
  const auto endpoints = make_endpoints(static_cast<size_t>(state.range(0)));
  core::SubsetParams params{.size = 20, .mode = mode, .client_count = 10'000};
  for (auto _ : state) {
    // A different client each time: deterministic windows vary in position and straddling.
    params.client_id = (params.client_id + 1) % params.client_count;
    benchmark::DoNotOptimize(core::choose_subset(endpoints, params));
  }
}

void BM_DeterministicSubset(benchmark::State& state) {
  run(state, core::SubsetMode::kDeterministic);
}
BENCHMARK(BM_DeterministicSubset)->Arg(100)->Arg(1'000)->Arg(5'000);

void BM_RendezvousSubset(benchmark::State& state) { run(state, core::SubsetMode::kRendezvous); }
BENCHMARK(BM_RendezvousSubset)->Arg(100)->Arg(1'000)->Arg(5'000);

}  // namespace
}  // namespace sluice
