// The proxy as a whole: the control thread (signals, admin endpoint, drain) and the workers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include "base/expected.h"

#include "config/config.h"
#include "proxy/cluster_discovery.h"
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
  // Re-reads the config file and switches every worker to it; an invalid config (or one that
  // changes what needs a restart) is rejected and the running one keeps serving.
  Expected<void, std::string> reload();
  // Builds the snapshot of the current config plus the discovered endpoints and hands it to
  // every worker.
  void publish();

  const std::string config_path_;
  asio::io_context control_;
  std::shared_ptr<const config::Config> base_config_;  // as parsed
  std::shared_ptr<const config::Config> config_;       // with discovered endpoints
  std::shared_ptr<const Snapshot> snapshot_;
  ProxyStats stats_;
  std::vector<std::unique_ptr<Worker>> workers_;
  ClusterDiscovery discovery_;
};

}  // namespace sluice::proxy
