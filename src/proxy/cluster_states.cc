#include "proxy/cluster_states.h"

#include <algorithm>
#include <string>
#include <unordered_map>

namespace sluice::proxy {

core::TriedSet ClusterState::for_picker(const core::TriedSet& tried) const {
  if (picker_index.empty() || tried.size() == 0) return tried;
  core::TriedSet out;
  for (size_t i = 0; i < tried.size(); ++i) {
    if (tried[i] < picker_index.size() && picker_index[tried[i]] != SIZE_MAX) {
      out.add(picker_index[tried[i]]);
    }
  }
  return out;
}

namespace {

// Sets the state's picker over its eligible endpoints (see ClusterState::eligible).
void make_eligible_picker(ClusterState& state, const ClusterSnapshot& cs, core::Random& random) {
  const auto& eligible = cs.eligible;
  if (eligible.empty()) {
    state.picker = core::make_picker(cs.config.policy, cs.endpoints, state.loads, random);
    return;
  }
  auto set = std::make_shared<core::EndpointSet>();
  set->version = cs.endpoints->version;
  core::LoadTable loads;
  state.picker_index.assign(eligible.size(), SIZE_MAX);
  for (size_t i = 0; i < eligible.size(); ++i) {
    if (!eligible[i]) continue;
    state.picker_index[i] = state.eligible.size();
    state.eligible.push_back(i);
    set->endpoints.push_back(cs.endpoints->endpoints[i]);
    loads.push_back(state.loads[i]);
  }
  state.picker = core::make_picker(cs.config.policy, std::move(set), std::move(loads), random);
}

}  // namespace

ClusterStates build_cluster_states(const std::shared_ptr<const Snapshot>& snapshot,
                                   const ClusterStates& previous, asio::any_io_executor executor,
                                   core::Random& random, http2::FlowStats& upstream_flow) {
  struct Kept {
    std::shared_ptr<UpstreamPool> pool;
    std::shared_ptr<core::EndpointLoad> load;
  };
  std::unordered_map<std::string, Kept> kept;
  for (const auto& old : previous) {
    for (size_t i = 0; i < old->pools.size(); ++i) {
      kept[old->snapshot->config.name + '|' + old->pools[i]->address()] = {old->pools[i],
                                                                           old->loads[i]};
    }
  }
  ClusterStates next;
  for (const auto& cs : snapshot->clusters) {
    auto state = std::make_shared<ClusterState>();
    state->owner = snapshot;
    state->snapshot = &cs;
    const PoolSettings settings = PoolSettings::of(cs.config);
    state->pools.reserve(cs.config.endpoints.size());
    state->loads.reserve(cs.config.endpoints.size());
    for (size_t i = 0; i < cs.config.endpoints.size(); ++i) {
      auto found = kept.find(cs.config.name + '|' + cs.stats->endpoints[i]->address);
      std::shared_ptr<UpstreamPool> pool = found == kept.end() ? nullptr : found->second.pool;
      state->loads.push_back(found == kept.end() ? std::make_shared<core::EndpointLoad>()
                                                 : found->second.load);
      if (pool) {
        pool->reconfigure(settings);
      } else {
        pool = std::make_shared<UpstreamPool>(executor, settings, cs.config.endpoints[i].address,
                                              snapshot->upstream_settings, cs.stats->endpoints[i],
                                              random, upstream_flow);
      }
      state->pools.push_back(std::move(pool));
    }
    make_eligible_picker(*state, cs, random);
    next.push_back(std::move(state));
  }
  return next;
}

}  // namespace sluice::proxy
