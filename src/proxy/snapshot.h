// Everything a worker needs to route and balance, built on the control thread from one config
// and shared read-only (shared_ptr<const Snapshot>) by all workers.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
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
  // By endpoint index: taken out of balancing by outlier detection (empty: none is).
  std::vector<bool> ejected;
  uint64_t subset_rotation = 0;  // the subset's rotation epoch (subset.rotate_every)
};

// Ejected endpoint addresses by cluster name (the outlier detector's current verdict).
using Ejections = std::map<std::string, std::set<std::string>>;

struct Snapshot {
  std::shared_ptr<const config::Config> config;
  Router router;
  std::vector<ClusterSnapshot> clusters;
  http2::SessionSettings downstream_settings;
  http2::SessionSettings upstream_settings;

  // `previous` (may be null) lends its stats objects to clusters and endpoints that stay.
  // Clusters with a `subset` keep only their subset's endpoints: `subset_seed` is this
  // process's rendezvous seed when the config gives no client_id; `rotations` (if given)
  // holds each such cluster's rotation epoch by name.
  // `ejections` (if given) marks endpoints outlier detection took out.
  static std::shared_ptr<const Snapshot> build(
      std::shared_ptr<const config::Config> config, const Snapshot* previous = nullptr,
      uint64_t subset_seed = 0, const std::map<std::string, uint64_t>* rotations = nullptr,
      const Ejections* ejections = nullptr);
};

}  // namespace sluice::proxy
