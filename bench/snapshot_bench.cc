// A membership update of a large cluster, as a worker sees it: the control thread builds the
// new Snapshot (stats of endpoints that stay are kept), the worker rebuilds its cluster
// states (pools of endpoints that stay are kept). Both must be O(endpoints): discovery of a
// 5000-pod service changes a few endpoints at a time, and every change pays for all of them.
#include <benchmark/benchmark.h>

#include <asio/io_context.hpp>
#include <memory>
#include <string>

#include "config/config.h"
#include "core/random.h"
#include "http2/flow_stats.h"
#include "proxy/cluster_states.h"
#include "proxy/snapshot.h"

namespace {

using namespace sluice;

std::shared_ptr<const config::Config> config_with(size_t endpoints, size_t generation) {
  auto c = std::make_shared<config::Config>();
  config::Cluster cluster;
  cluster.name = "big";
  for (size_t i = 0; i < endpoints; ++i) {
    // Each update replaces one endpoint (a pod rolled).
    const size_t id = i == 0 ? 100000 + generation : i;
    cluster.endpoints.push_back(
        {{"10." + std::to_string(id / 65536) + "." + std::to_string(id / 256 % 256) + "." +
              std::to_string(id % 256),
          50051}});
  }
  c->clusters.push_back(std::move(cluster));
  config::Route route;
  route.cluster = "big";
  c->routes.push_back(route);
  return c;
}

void BM_UpdateOfALargeCluster(benchmark::State& state) {
  const auto endpoints = static_cast<size_t>(state.range(0));
  asio::io_context io;
  core::FastRandom random(1);
  http2::FlowStats flow;
  auto snapshot = proxy::Snapshot::build(config_with(endpoints, 0));
  auto states = proxy::build_cluster_states(snapshot, {}, io.get_executor(), random, flow);
  size_t generation = 0;
  for (auto _ : state) {
    state.PauseTiming();  // making the config stands in for parsing: not what is measured
    auto config = config_with(endpoints, ++generation);
    state.ResumeTiming();
    auto next = proxy::Snapshot::build(config, snapshot.get());
    states = proxy::build_cluster_states(next, states, io.get_executor(), random, flow);
    snapshot = std::move(next);
    benchmark::DoNotOptimize(states);
  }
  state.counters["endpoints"] = static_cast<double>(endpoints);
}
BENCHMARK(BM_UpdateOfALargeCluster)->Arg(500)->Arg(5000)->Unit(benchmark::kMillisecond);

}  // namespace
