// A worker thread: its own io_context, its own SO_REUSEPORT listener sockets, the downstream
// connections it accepted and its own upstream pools. Nothing on a worker is shared with
// another worker except the read-only snapshot and the relaxed-atomic stats.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/expected.h"
#include "core/picker.h"
#include "core/random.h"
#include "http2/server_connection.h"
#include "proxy/snapshot.h"
#include "proxy/upstream_pool.h"

namespace sluice::proxy {

// A worker's live state for one cluster of one snapshot. Calls hold it (shared_ptr) for their
// whole life, so a reload can swap in a new one while they finish on the old one. Pools are
// shared by the states of successive snapshots for endpoints that stay.
struct ClusterState {
  std::shared_ptr<const Snapshot> owner;  // keeps `snapshot` alive
  const ClusterSnapshot* snapshot;
  std::unique_ptr<core::Picker> picker;
  std::vector<std::shared_ptr<UpstreamPool>> pools;  // by endpoint index
};

class Worker final : public http2::ServerConnection::Owner {
 public:
  Worker(size_t index, std::shared_ptr<const Snapshot> snapshot, ProxyStats& stats);
  ~Worker() override;

  // Binds one SO_REUSEPORT socket per listener; `ports[i]` overrides listener i's port (so
  // workers after the first share the port the first one got for port 0).
  Expected<std::vector<uint16_t>, std::string> listen(const std::vector<uint16_t>& ports);
  void start();
  // Switches to a new snapshot (a reload): routes and clusters change for new calls; calls in
  // flight finish on the state they started with; pools of endpoints that stay are kept.
  void apply(std::shared_ptr<const Snapshot> snapshot);
  // Stops accepting and sends every downstream connection a graceful GOAWAY.
  void drain();
  // Stops the event loop and joins the thread.
  void stop();
  int64_t downstream_connections() const { return downstream_count_.load(); }

  const Snapshot& snapshot() const { return *snapshot_; }
  const std::shared_ptr<ClusterState>& cluster(size_t index) { return clusters_[index]; }
  ProxyStats& stats() { return stats_; }
  asio::any_io_executor executor() { return io_.get_executor(); }

  http2::ServerStream* new_stream(http2::ServerConnection& conn, int32_t stream_id) override;
  void on_connection_closed(http2::ServerConnection& conn) override;

 private:
  void accept(size_t listener);
  void build_clusters();

  const size_t index_;
  std::shared_ptr<const Snapshot> snapshot_;
  ProxyStats& stats_;
  asio::io_context io_;
  core::FastRandom random_;
  std::vector<std::shared_ptr<ClusterState>> clusters_;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;
  std::unordered_map<http2::ServerConnection*, std::shared_ptr<http2::ServerConnection>>
      downstream_;
  std::atomic<int64_t> downstream_count_{0};
  bool draining_ = false;
  std::thread thread_;
};

}  // namespace sluice::proxy
