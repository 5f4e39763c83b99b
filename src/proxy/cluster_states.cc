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

// The retry budget and throttle count over time: a reload that keeps their settings keeps them.
void keep_retry_state(ClusterState& state, const config::Cluster& cluster,
                      const std::unordered_map<std::string, const ClusterState*>& previous) {
  auto it = previous.find(cluster.name);
  const ClusterState* old = it == previous.end() ? nullptr : it->second;
  state.budget = old && old->budget->options() == cluster.retry_budget
                     ? old->budget
                     : std::make_shared<core::RetryBudget>(cluster.retry_budget);
  const auto& throttling =
      cluster.service_config ? cluster.service_config->retry_throttling : std::nullopt;
  if (!throttling) return;
  const auto* old_throttling = old && old->snapshot->config.service_config
                                   ? &old->snapshot->config.service_config->retry_throttling
                                   : nullptr;
  state.throttle = old && old->throttle && old_throttling && *old_throttling == throttling
                       ? old->throttle
                       : std::make_shared<core::RetryThrottle>(*throttling);
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
  std::unordered_map<std::string, const ClusterState*> previous_by_name;
  for (const auto& old : previous) {
    previous_by_name[old->snapshot->config.name] = old.get();
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
    if (cs.config.service_config) {
      state->methods = std::make_shared<const core::MethodConfigIndex>(*cs.config.service_config);
    }
    keep_retry_state(*state, cs.config, previous_by_name);
    next.push_back(std::move(state));
  }
  return next;
}

}  // namespace sluice::proxy
