// Everything a worker needs to route and balance, built on the control thread from one config
// and shared read-only (shared_ptr<const Snapshot>) by all workers.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/endpoint_set.h"
#include "http2/connection.h"
#include "proxy/router.h"
#include "proxy/stats.h"

namespace sluice::proxy {

struct ClusterSnapshot {
  config::Cluster config;
  core::EndpointSetPtr endpoints;
  std::shared_ptr<ClusterStats> stats;  // endpoints[i] <-> stats->endpoints[i]
  // By endpoint index: what the pickers may use (empty: every endpoint), from health checks,
  // outlier ejections and the panic threshold (core::choose_eligible).
  std::vector<bool> eligible;
  bool panic = false;            // too few healthy endpoints: health is ignored
  uint64_t subset_rotation = 0;  // the subset's rotation epoch (subset.rotate_every)
};

// Ejected endpoint addresses by cluster name (the outlier detector's current verdict).
using Ejections = std::map<std::string, std::set<std::string>>;
// Health by cluster name, then endpoint address (absent: the cluster's initial_state).
using HealthVerdicts = std::map<std::string, std::unordered_map<std::string, core::Health>>;

// What the control thread decided beyond the config, for Snapshot::build (each may be null).
struct BalancingState {
  uint64_t subset_seed = 0;  // rendezvous subsets without a client_id hash on this
  const std::map<std::string, uint64_t>* rotations = nullptr;  // subset epochs by cluster
  const Ejections* ejections = nullptr;
  const HealthVerdicts* health = nullptr;
};

struct Snapshot {
  std::shared_ptr<const config::Config> config;
  Router router;
  std::vector<ClusterSnapshot> clusters;
  http2::SessionSettings downstream_settings;
  http2::SessionSettings upstream_settings;

  // `previous` (may be null) lends its stats objects to clusters and endpoints that stay.
  // Clusters with a `subset` keep only their subset's endpoints (state.subset_seed,
  // state.rotations); state.ejections and state.health decide which endpoints are eligible.
  static std::shared_ptr<const Snapshot> build(std::shared_ptr<const config::Config> config,
                                               const Snapshot* previous = nullptr,
                                               const BalancingState& state = {});
};

}  // namespace sluice::proxy
