// ns per pick of every balancing policy at 3, 100 and 5000 endpoints (goal: < 100 ns at 5000
// for every policy), plus what building a picker costs (once per worker per membership change).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "core/hash.h"
#include "core/picker.h"
#include "core/random.h"

namespace sluice {
namespace {

using core::PolicyKind;

core::EndpointSetPtr weighted_set(size_t count) {
  auto set = std::make_shared<core::EndpointSet>();
  for (size_t i = 0; i < count; ++i) {
    // Mixed weights, so the weighted paths run (equal weights take shortcuts).
    set->endpoints.push_back(
        {"10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":50051",
         static_cast<uint32_t>(1 + i % 3)});
  }
  return set;
}

// Load as a busy worker has it: some calls in flight, round trips sampled.
core::LoadTable busy_loads(size_t count) {
  core::LoadTable loads;
  for (size_t i = 0; i < count; ++i) {
    auto load = std::make_shared<core::EndpointLoad>();
    load->in_flight = static_cast<uint32_t>(i % 7);
    load->rtt.observe(std::chrono::milliseconds(5 + i % 40), std::chrono::seconds(1),
                      std::chrono::seconds(10));
    loads.push_back(std::move(load));
  }
  return loads;
}

core::PolicyConfig config_of(PolicyKind kind) {
  core::PolicyConfig config;
  config.kind = kind;
  config.hash_header = "x-user";
  return config;
}

void BM_Pick(benchmark::State& state, PolicyKind kind) {
  const auto count = static_cast<size_t>(state.range(0));
  core::FastRandom random(1);
  auto picker = core::make_picker(config_of(kind), weighted_set(count), busy_loads(count), random);
  const core::TriedSet tried;
  uint64_t key = 0;
  core::Nanos now(std::chrono::seconds(2));
  for (auto _ : state) {
    // A new key per call, as distinct users would send (its hash is the caller's, once).
    const auto result = picker->pick(core::PickContext{tried, now, key += 0x9e3779b97f4a7c15ULL});
    benchmark::DoNotOptimize(result);
    now += core::Nanos(1000);
  }
  state.SetLabel(std::string(core::policy_name(kind)));
}

void BM_Build(benchmark::State& state, PolicyKind kind) {
  const auto count = static_cast<size_t>(state.range(0));
  core::FastRandom random(1);
  const auto set = weighted_set(count);
  const auto loads = busy_loads(count);
  for (auto _ : state) {
    benchmark::DoNotOptimize(core::make_picker(config_of(kind), set, loads, random));
  }
  state.SetLabel(std::string(core::policy_name(kind)));
}

void BM_HashKey(benchmark::State& state) {
  const std::string value = "user-1234567890";
  for (auto _ : state) benchmark::DoNotOptimize(core::stable_hash(value));
}
BENCHMARK(BM_HashKey);

#define SLUICE_POLICY_BENCH(name, kind)                                \
  BENCHMARK_CAPTURE(BM_Pick, name, kind)->Arg(3)->Arg(100)->Arg(5000); \
  BENCHMARK_CAPTURE(BM_Build, name, kind)                              \
      ->Arg(3)                                                         \
      ->Arg(100)                                                       \
      ->Arg(5000)                                                      \
      ->Unit(benchmark::kMicrosecond)

SLUICE_POLICY_BENCH(round_robin, PolicyKind::kRoundRobin);
SLUICE_POLICY_BENCH(weighted_round_robin, PolicyKind::kWeightedRoundRobin);
SLUICE_POLICY_BENCH(least_request, PolicyKind::kLeastRequest);
SLUICE_POLICY_BENCH(peak_ewma, PolicyKind::kPeakEwma);
SLUICE_POLICY_BENCH(ring_hash, PolicyKind::kRingHash);
SLUICE_POLICY_BENCH(random, PolicyKind::kRandom);
SLUICE_POLICY_BENCH(pick_first, PolicyKind::kPickFirst);

}  // namespace
}  // namespace sluice
