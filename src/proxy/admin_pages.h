// The proxy's read-only admin pages, rendered from the snapshot and the stats.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "proxy/cluster_discovery.h"
#include "proxy/snapshot.h"
#include "proxy/stats.h"

namespace sluice::proxy {

// Prometheus text: calls by cluster, endpoint and grpc-status; in-flight calls; upstream and
// downstream connections; flow-control and buffer figures summed over `flows` (one per worker).
std::string render_metrics(const Snapshot& snapshot, const ProxyStats& stats,
                           const std::map<std::string, DiscoveryStatus>& discovery,
                           const std::vector<const WorkerFlow*>& flows);
// JSON: each cluster with its policy, endpoint source, endpoints and their counters.
std::string render_clusters(const Snapshot& snapshot,
                            const std::map<std::string, DiscoveryStatus>& discovery);

}  // namespace sluice::proxy
