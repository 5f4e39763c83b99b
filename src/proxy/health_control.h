// Active health checking on the control thread: one health::Probe per endpoint of every
// cluster with `health_check` (once per process, not per worker), its results turned into
// health by core::HealthCounter, and the verdict put into the next snapshot, which takes
// unhealthy endpoints out of every worker's picker (subject to the panic threshold).
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/health.h"
#include "core/random.h"
#include "health/health_probe.h"
#include "proxy/snapshot.h"

namespace sluice::proxy {

class HealthControl {
 public:
  // `republish` builds and hands out a new snapshot (posted, once per burst of transitions).
  HealthControl(asio::io_context& control, std::function<void()> republish, uint64_t seed);

  // After every snapshot: probes follow the clusters and their endpoints (kept by address); a
  // cluster whose health_check changed starts afresh. True if that changed the verdicts.
  bool sync(const Snapshot& snapshot);
  const HealthVerdicts& verdicts() const { return verdicts_; }

 private:
  struct Endpoint {
    std::unique_ptr<health::Probe> probe;  // null: not an IP address (cannot be checked)
    core::HealthCounter counter;
    std::shared_ptr<EndpointStats> stats;
  };
  struct Cluster {
    core::HealthCheckConfig config;
    std::unordered_map<std::string, Endpoint> endpoints;  // by address
    // No-traffic detection: calls seen at the last look, once per interval.
    uint64_t calls_seen = 0;
    bool busy = false;
    std::unique_ptr<asio::steady_timer> traffic_timer;
  };
  void on_result(const std::string& cluster, const std::string& address,
                 const health::CheckResult& result);
  // Once per interval: did the cluster carry calls since the last look?
  void watch_traffic(const std::string& name, Cluster& cluster);
  void arm_traffic_timer(const std::string& name, Cluster& cluster);
  void request_publish();

  asio::io_context& control_;
  std::function<void()> republish_;
  core::FastRandom random_;
  std::map<std::string, Cluster> clusters_;
  HealthVerdicts verdicts_;
  bool publish_posted_ = false;
};

}  // namespace sluice::proxy
