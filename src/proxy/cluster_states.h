// A worker's live state per cluster of one snapshot: its picker, and the upstream pools and
// load state of its endpoints. Built on the worker from each new snapshot; pools and load of
// endpoints that stay (same cluster, same address) are kept, with their connections.
#pragma once

#include <asio/any_io_executor.hpp>
#include <memory>
#include <vector>

#include "core/picker.h"
#include "core/random.h"
#include "core/retry.h"
#include "core/service_config.h"
#include "http2/flow_stats.h"
#include "proxy/snapshot.h"
#include "proxy/upstream_pool.h"

namespace sluice::proxy {

// Calls hold it (shared_ptr) for their whole life, so a reload can swap in a new one while
// they finish on the old one. Pools are shared by the states of successive snapshots.
struct ClusterState {
  std::shared_ptr<const Snapshot> owner;  // keeps `snapshot` alive
  const ClusterSnapshot* snapshot;
  std::unique_ptr<core::Picker> picker;
  std::vector<std::shared_ptr<UpstreamPool>> pools;  // by endpoint index
  // This worker's load state by endpoint index (in-flight, round-trip estimate), fed by the
  // calls' trackers and read by the picker. Kept, like pools, for endpoints that stay.
  core::LoadTable loads;
  // The picker balances over the eligible endpoints only (ClusterSnapshot::eligible: healthy
  // and not ejected, within the panic threshold). Picker index -> endpoint index, and back
  // (SIZE_MAX: not eligible). Both empty when every endpoint is eligible: the indices agree.
  std::vector<size_t> eligible;
  std::vector<size_t> picker_index;
  // The method configs of the cluster's service_config (null: none; a route's own replaces
  // it), and this worker's retry budget for the cluster, kept across snapshots while the
  // cluster's budget options stay the same.
  std::shared_ptr<const core::MethodConfigIndex> methods;
  std::shared_ptr<core::RetryBudget> budget;
  // retryThrottling of the cluster's service_config (null: none), kept likewise.
  std::shared_ptr<core::RetryThrottle> throttle;

  size_t endpoint_of(size_t picked) const { return eligible.empty() ? picked : eligible[picked]; }
  // `tried` (endpoint indices) as the picker's indices; ineligible ones drop out.
  core::TriedSet for_picker(const core::TriedSet& tried) const;
};

using ClusterStates = std::vector<std::shared_ptr<ClusterState>>;

// O(endpoints): one hash lookup per endpoint, and each pool gets the cluster's small
// PoolSettings, never a copy of the whole cluster config.
ClusterStates build_cluster_states(const std::shared_ptr<const Snapshot>& snapshot,
                                   const ClusterStates& previous, asio::any_io_executor executor,
                                   core::Random& random, http2::FlowStats& upstream_flow);

}  // namespace sluice::proxy
