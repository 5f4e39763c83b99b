// Per-call costs of the balancing core and the grpc-timeout helpers.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/picker.h"
#include "core/random.h"
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

}  // namespace
}  // namespace sluice
