// The proxy's read-only admin pages, rendered from the snapshot and the stats.
#pragma once

#include <string>

#include <map>

#include "proxy/cluster_discovery.h"
#include "proxy/snapshot.h"
#include "proxy/stats.h"

namespace sluice::proxy {

// Prometheus text: calls by cluster, endpoint and grpc-status; in-flight calls; upstream and
// downstream connections.
std::string render_metrics(const Snapshot& snapshot, const ProxyStats& stats,
                           const std::map<std::string, DiscoveryStatus>& discovery);
// JSON: each cluster with its policy, endpoint source, endpoints and their counters.
std::string render_clusters(const Snapshot& snapshot,
                            const std::map<std::string, DiscoveryStatus>& discovery);

}  // namespace sluice::proxy
