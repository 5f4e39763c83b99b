// A worker thread: its own io_context, its own SO_REUSEPORT listener sockets, the downstream
// connections it accepted and its own upstream pools. Nothing on a worker is shared with
// another worker except the read-only snapshot and the relaxed-atomic stats.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/expected.h"
#include "core/picker.h"
#include "core/random.h"
#include "http2/server_connection.h"
#include "proxy/cluster_states.h"
#include "proxy/snapshot.h"
#include "proxy/upstream_pool.h"

namespace sluice::proxy {

class Worker final : public http2::ServerConnection::Owner {
 public:
  Worker(size_t index, size_t worker_count, std::shared_ptr<const Snapshot> snapshot,
         ProxyStats& stats);
  ~Worker() override;

  using Acceptor = std::unique_ptr<asio::ip::tcp::acceptor>;
  // A bound, listening SO_REUSEPORT socket for `listener` on `port` (its own port when 0 is
  // given and the listener asks for 0), on this worker's loop but not yet accepting: safe to
  // call from another thread before add_listener() hands it over.
  Expected<Acceptor, std::string> open_acceptor(const config::Listener& listener, uint16_t port);
  // Starts accepting on `acceptor` for the listener named `name` (posted to the worker).
  void add_listener(const std::string& name, Acceptor acceptor);
  // Stops accepting for `name`; its connections get a graceful GOAWAY (calls in flight finish).
  void remove_listener(const std::string& name);
  // Binds one socket per listener of the snapshot; `ports[i]` overrides listener i's port (so
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
  // This worker's random source (retry jitter); worker thread only.
  core::Random& random() { return random_; }
  const WorkerFlow& flow() const { return flow_; }
  // Whether this worker's buffered bytes (both sides) are over its equal share of
  // http2.max_buffered_bytes: new streams are then refused.
  bool over_buffer_budget() const {
    return flow_.downstream.buffered() + flow_.upstream.buffered() > buffer_budget_;
  }
  asio::any_io_executor executor() { return io_.get_executor(); }
  // Outlier detection: where a run of consecutive failures is reported (set before start();
  // called on the worker's thread, it must hand the report over to the control thread).
  using FailureReporter =
      std::function<void(const std::string& cluster, const std::string& address)>;
  void set_failure_reporter(FailureReporter reporter) { failure_reporter_ = std::move(reporter); }
  void report_consecutive_failures(const std::string& cluster, const std::string& address) {
    if (failure_reporter_) failure_reporter_(cluster, address);
  }

  http2::ServerStream* new_stream(http2::ServerConnection& conn, int32_t stream_id) override;
  void on_connection_closed(http2::ServerConnection& conn) override;
  void on_abuse(http2::ServerConnection& conn, http2::ServerConnection::Abuse abuse) override;

 private:
  struct Listening {
    uint64_t generation;  // tells a stale accept handler from the current one
    Acceptor acceptor;
  };
  struct Downstream {
    std::shared_ptr<http2::ServerConnection> conn;
    std::string listener;
  };
  void accept(const std::string& listener, uint64_t generation);
  // After an accept error (EMFILE, ENFILE, ...): try again after a growing pause instead of
  // spinning on a listener whose backlog is full.
  void accept_later(const std::string& listener, uint64_t generation);
  bool at_connection_limit(const config::Listener& listener) const;
  void apply_limits();
  void run_loop();
  void serve(const config::Listener& listener, asio::ip::tcp::socket socket);
  void build_clusters();

  const size_t index_;
  const size_t worker_count_;
  WorkerFlow flow_;
  int64_t buffer_budget_ = 0;

  std::shared_ptr<const Snapshot> snapshot_;
  ProxyStats& stats_;
  asio::io_context io_;
  std::chrono::milliseconds accept_backoff_{0};
  std::unordered_map<std::string, size_t> connections_per_listener_;
  core::FastRandom random_;
  FailureReporter failure_reporter_;
  std::vector<std::shared_ptr<ClusterState>> clusters_;
  std::map<std::string, Listening> listening_;  // by listener name
  uint64_t next_generation_ = 0;
  std::unordered_map<http2::ServerConnection*, Downstream> downstream_;
  std::atomic<int64_t> downstream_count_{0};
  bool draining_ = false;
  std::thread thread_;
};

}  // namespace sluice::proxy
