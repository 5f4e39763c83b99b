// The proxy as a whole: the control thread (signals, admin endpoint, drain) and the workers.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include "base/expected.h"

#include "config/config.h"
#include "core/random.h"
#include "proxy/cluster_discovery.h"
#include "proxy/health_control.h"
#include "proxy/outlier_control.h"
#include "proxy/snapshot.h"
#include "proxy/stats.h"

namespace sluice::proxy {

class Worker;

class Proxy {
 public:
  // `config_path` is where SIGHUP and POST /reload re-read the config ("" in quick mode).
  Proxy(config::Config config, std::string config_path);
  ~Proxy();

  // Binds listeners (printing "listening on HOST:PORT" per listener) and the admin endpoint,
  // starts the workers, and serves until SIGTERM/SIGINT; then drains and returns the exit code.
  int run();

 private:
  Expected<void, std::string> start_workers();
  // Re-reads the config file and switches every worker to it (listeners, routes, clusters);
  // an invalid config, or a new listener that cannot bind, is rejected and the running one
  // keeps serving. Worker count and the admin address change only with a restart. Counted in
  // sluice_config_reloads_total.
  Expected<void, std::string> reload();
  Expected<void, std::string> apply_config_file();
  // Builds the snapshot of the current config plus the discovered endpoints and hands it to
  // every worker.
  void publish();
  // A line when a cluster enters or leaves panic (too few healthy endpoints).
  void log_panic_changes(const Snapshot& after);

  // Listeners a reload adds (sockets already bound, one per worker) and removes (by name).
  struct NewListener {
    config::Listener listener;
    uint16_t port;
    std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors;  // by worker
  };
  struct ListenerChange {
    std::vector<std::string> removed;
    std::vector<NewListener> added;
  };
  // Binds the sockets of listeners `next` adds; fails (nothing changed) if one cannot bind.
  Expected<ListenerChange, std::string> open_new_listeners(const config::Config& next);
  // Hands the new sockets to the workers and stops the removed listeners (their connections
  // get a graceful GOAWAY); prints "listening on HOST:PORT" for each new one.
  void switch_listeners(ListenerChange change);
  // One timer per cluster with subset.rotate_every: each tick moves that cluster to a fresh
  // subset (its rotation epoch + 1). Re-armed from the current config after every reload.
  void schedule_rotations();
  void rotate(const std::string& cluster, std::chrono::milliseconds every);

  const std::string config_path_;
  asio::io_context control_;
  // Rendezvous subsets without a client_id hash on this; drawn once so reloads keep them.
  const uint64_t subset_seed_;
  std::map<std::string, uint64_t> rotations_;  // subset rotation epoch by cluster name
  core::FastRandom random_{subset_seed_};      // the control thread's timer jitter
  std::vector<std::unique_ptr<asio::steady_timer>> rotation_timers_;
  std::shared_ptr<const config::Config> base_config_;  // as parsed
  std::shared_ptr<const config::Config> config_;       // with discovered endpoints
  std::shared_ptr<const Snapshot> snapshot_;
  ProxyStats stats_;
  std::vector<std::unique_ptr<Worker>> workers_;
  ClusterDiscovery discovery_;
  OutlierControl outlier_;
  HealthControl health_;
  std::set<std::string> panicking_;  // clusters in panic, as last logged
};

}  // namespace sluice::proxy
