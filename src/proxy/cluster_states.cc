#include "proxy/cluster_states.h"

#include <string>
#include <unordered_map>

namespace sluice::proxy {

ClusterStates build_cluster_states(const std::shared_ptr<const Snapshot>& snapshot,
                                   const ClusterStates& previous, asio::any_io_executor executor,
                                   core::Random& random, http2::FlowStats& upstream_flow) {
  std::unordered_map<std::string, std::shared_ptr<UpstreamPool>> kept;
  for (const auto& old : previous) {
    for (const auto& p : old->pools) kept[old->snapshot->config.name + '|' + p->address()] = p;
  }
  ClusterStates next;
  for (const auto& cs : snapshot->clusters) {
    auto state = std::make_shared<ClusterState>();
    state->owner = snapshot;
    state->snapshot = &cs;
    state->picker = core::make_picker(cs.config.policy, cs.endpoints, random);
    const PoolSettings settings = PoolSettings::of(cs.config);
    state->pools.reserve(cs.config.endpoints.size());
    for (size_t i = 0; i < cs.config.endpoints.size(); ++i) {
      auto found = kept.find(cs.config.name + '|' + cs.stats->endpoints[i]->address);
      std::shared_ptr<UpstreamPool> pool = found == kept.end() ? nullptr : found->second;
      if (pool) {
        pool->reconfigure(settings);
      } else {
        pool = std::make_shared<UpstreamPool>(executor, settings, cs.config.endpoints[i].address,
                                              snapshot->upstream_settings, cs.stats->endpoints[i],
                                              random, upstream_flow);
      }
      state->pools.push_back(std::move(pool));
    }
    next.push_back(std::move(state));
  }
  return next;
}

}  // namespace sluice::proxy
