// The proxy's read-only admin pages, rendered from the snapshot and the stats.
#pragma once

#include <string>

#include "proxy/snapshot.h"
#include "proxy/stats.h"

namespace sluice::proxy {

// Prometheus text: calls by cluster, endpoint and grpc-status; in-flight calls; upstream and
// downstream connections.
std::string render_metrics(const Snapshot& snapshot, const ProxyStats& stats);
// JSON: each cluster with its policy and endpoints and their counters.
std::string render_clusters(const Snapshot& snapshot);

}  // namespace sluice::proxy
