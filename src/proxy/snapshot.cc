#include "proxy/snapshot.h"

#include <algorithm>
#include <unordered_map>

#include "core/subset.h"

namespace sluice::proxy {

namespace {

const ClusterStats* find_stats(const Snapshot* snap, const std::string& cluster) {
  if (snap == nullptr) return nullptr;
  for (const auto& c : snap->clusters) {
    if (c.config.name == cluster) return c.stats.get();
  }
  return nullptr;
}

// The previous cluster's endpoint stats by address: one lookup per endpoint, so an update of
// a cluster with thousands of endpoints stays O(endpoints).
using StatsByAddress = std::unordered_map<std::string, std::shared_ptr<EndpointStats>>;

StatsByAddress index_stats(const ClusterStats* old) {
  StatsByAddress by_address;
  if (old == nullptr) return by_address;
  by_address.reserve(old->endpoints.size());
  for (const auto& e : old->endpoints) by_address.emplace(e->address, e);
  return by_address;
}

std::shared_ptr<EndpointStats> reuse_or_new(const StatsByAddress& old, const std::string& address) {
  auto it = old.find(address);
  return it != old.end() ? it->second : std::make_shared<EndpointStats>(address);
}

// The cluster as this process uses it: only its subset's endpoints when it has one.
config::Cluster with_subset(const config::Cluster& c, uint64_t seed,
                            const std::map<std::string, uint64_t>* rotations) {
  if (!c.subset || c.subset->size >= c.endpoints.size()) return c;
  std::vector<core::Endpoint> all;
  all.reserve(c.endpoints.size());
  for (const auto& e : c.endpoints) all.push_back({e.address.to_string(), e.weight});
  core::SubsetParams params;
  params.size = c.subset->size;
  params.mode = c.subset->mode;
  params.client_id = c.subset->client_id.value_or(seed);
  params.client_count = c.subset->client_count;
  if (rotations) {
    auto it = rotations->find(c.name);
    if (it != rotations->end()) params.rotation = it->second;
  }
  config::Cluster out = c;
  out.endpoints.clear();
  for (size_t i : core::choose_subset(all, params)) out.endpoints.push_back(c.endpoints[i]);
  return out;
}

// Who may get calls: the health verdicts (absent = initial_state), ejections, panic threshold.
core::Eligibility eligibility(const config::Cluster& c, const core::EndpointSet& set,
                              const BalancingState& state) {
  std::vector<bool> ejected;
  if (state.ejections) {
    auto it = state.ejections->find(c.name);
    if (it != state.ejections->end() && !it->second.empty()) {
      for (const auto& e : set.endpoints) ejected.push_back(it->second.contains(e.address));
    }
  }
  std::vector<bool> healthy;
  if (c.health_check) {
    const std::unordered_map<std::string, core::Health>* verdicts = nullptr;
    if (state.health) {
      auto it = state.health->find(c.name);
      if (it != state.health->end()) verdicts = &it->second;
    }
    for (const auto& e : set.endpoints) {
      core::Health h = c.health_check->initial_state;
      if (verdicts) {
        auto found = verdicts->find(e.address);
        if (found != verdicts->end()) h = found->second;
      }
      healthy.push_back(h == core::Health::kHealthy);
    }
  }
  core::Eligibility out =
      core::choose_eligible(healthy, ejected, c.health_check ? c.health_check->panic_threshold : 0);
  // Every endpoint eligible: say so with an empty mask (the workers' fast path).
  if (std::find(out.eligible.begin(), out.eligible.end(), false) == out.eligible.end()) {
    out.eligible.clear();
  }
  return out;
}

}  // namespace

std::shared_ptr<const Snapshot> Snapshot::build(std::shared_ptr<const config::Config> config,
                                                const Snapshot* previous,
                                                const BalancingState& state) {
  const uint64_t subset_seed = state.subset_seed;
  const auto* rotations = state.rotations;
  std::vector<std::string> names;
  for (const auto& c : config->clusters) names.push_back(c.name);
  auto snap =
      std::make_shared<Snapshot>(Snapshot{config, Router(config->routes, names), {}, {}, {}});
  for (const auto& configured : config->clusters) {
    const config::Cluster c = with_subset(configured, subset_seed, rotations);
    auto set = std::make_shared<core::EndpointSet>();
    set->version = 1;
    auto stats = std::make_shared<ClusterStats>(c.name);
    const ClusterStats* old = find_stats(previous, c.name);
    if (old != nullptr) {  // keep the cluster's own counters too
      for (size_t s = 0; s < old->calls_without_endpoint.size(); ++s) {
        stats->calls_without_endpoint[s] = read(old->calls_without_endpoint[s]);
      }
    }
    const StatsByAddress old_endpoints = index_stats(old);
    set->endpoints.reserve(c.endpoints.size());
    stats->endpoints.reserve(c.endpoints.size());
    for (const auto& e : c.endpoints) {
      std::string address = e.address.to_string();
      set->endpoints.push_back({address, e.weight});
      stats->endpoints.push_back(reuse_or_new(old_endpoints, address));
    }
    core::Eligibility eligible = eligibility(c, *set, state);
    uint64_t rotation = 0;
    if (rotations) {
      auto it = rotations->find(c.name);
      if (it != rotations->end()) rotation = it->second;
    }
    snap->clusters.push_back({c, std::move(set), std::move(stats), std::move(eligible.eligible),
                              eligible.panic, rotation});
  }
  const auto& h = config->http2;
  http2::SessionSettings& down = snap->downstream_settings;
  down.stream_window = h.stream_window;
  down.connection_window = h.connection_window;
  down.max_concurrent_streams = h.max_concurrent_streams;
  down.max_header_list_size = h.max_header_list_size;
  down.min_ping_interval = h.min_ping_interval;
  down.max_ping_strikes = h.max_ping_strikes;
  down.reset_burst = h.reset_burst;
  down.reset_rate = h.reset_rate;
  down.control_frame_burst = h.control_frame_burst;
  down.control_frame_rate = h.control_frame_rate;
  down.max_continuations = h.max_continuations;
  // Upstream: the same windows and limits; the backend decides how many streams it takes.
  snap->upstream_settings = down;
  snap->upstream_settings.max_concurrent_streams = 0;
  return snap;
}

}  // namespace sluice::proxy
