// Per-call costs of the balancing core, the retry kernels and the grpc-timeout helpers.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/picker.h"
#include "core/random.h"
#include "core/retry.h"
#include "core/service_config.h"
#include "http2/grpc/timeout.h"

namespace sluice {
namespace {

core::EndpointSetPtr make_set(size_t count) {
  auto set = std::make_shared<core::EndpointSet>();
  for (size_t i = 0; i < count; ++i) set->endpoints.push_back({"10.0.0.1:" + std::to_string(i)});
  return set;
}

void BM_RoundRobinPick(benchmark::State& state) {
  core::RoundRobinPicker picker(make_set(static_cast<size_t>(state.range(0))), 0);
  const core::TriedSet tried;
  for (auto _ : state) benchmark::DoNotOptimize(picker.pick(tried));
}
BENCHMARK(BM_RoundRobinPick)->Arg(3)->Arg(100)->Arg(10'000);

void BM_RoundRobinPickWithTried(benchmark::State& state) {
  core::RoundRobinPicker picker(make_set(100), 0);
  core::TriedSet tried;
  for (size_t i = 0; i < 4; ++i) tried.add(i * 25);
  for (auto _ : state) benchmark::DoNotOptimize(picker.pick(tried));
}
BENCHMARK(BM_RoundRobinPickWithTried);

void BM_RandomBelow(benchmark::State& state) {
  core::FastRandom random(1);
  const auto n = static_cast<uint64_t>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(random.below(n));
}
BENCHMARK(BM_RandomBelow)->Arg(3)->Arg(1'000);

void BM_ParseGrpcTimeout(benchmark::State& state) {
  const std::string value = "12345678u";
  for (auto _ : state) benchmark::DoNotOptimize(wire::parse_grpc_timeout(value));
}
BENCHMARK(BM_ParseGrpcTimeout);

void BM_FormatGrpcTimeout(benchmark::State& state) {
  const std::chrono::nanoseconds timeout(12'345'678'901);
  for (auto _ : state) benchmark::DoNotOptimize(wire::format_grpc_timeout(timeout));
}
BENCHMARK(BM_FormatGrpcTimeout);

// What every call pays for retries when it succeeds first time: the method config lookup, the
// budget's deposit and (for a share of calls) one withdrawal.
void BM_MethodConfigFind(benchmark::State& state) {
  core::ServiceConfig config;
  for (int i = 0; i < state.range(0); ++i) {
    core::MethodConfig mc;
    mc.names.push_back({"pkg.Service" + std::to_string(i), ""});
    mc.names.push_back({"pkg.Service" + std::to_string(i), "Get"});
    config.method_configs.push_back(mc);
  }
  const core::MethodConfigIndex index(config);
  const std::string service = "pkg.Service" + std::to_string(state.range(0) / 2);
  for (auto _ : state) benchmark::DoNotOptimize(index.find(service, "List"));
}
BENCHMARK(BM_MethodConfigFind)->Arg(1)->Arg(1'000);

void BM_RetryBudgetCallAndSpend(benchmark::State& state) {
  core::RetryBudget budget({});
  std::chrono::nanoseconds now{1'000'000'000'000};
  for (auto _ : state) {
    now += std::chrono::microseconds(100);  // 10k calls/s: slices roll over as in service
    budget.record_call(now);
    benchmark::DoNotOptimize(budget.try_spend(now));
  }
}
BENCHMARK(BM_RetryBudgetCallAndSpend);

void BM_RetryBackoff(benchmark::State& state) {
  core::RetryPolicy policy;
  policy.initial_backoff = std::chrono::milliseconds(100);
  policy.max_backoff = std::chrono::seconds(1);
  policy.backoff_multiplier = 2;
  core::FastRandom random(1);
  for (auto _ : state) benchmark::DoNotOptimize(core::retry_backoff(policy, 3, random));
}
BENCHMARK(BM_RetryBackoff);

}  // namespace
}  // namespace sluice
