// Outlier detection on the control thread: one core::OutlierDetector per cluster that has
// `outlier_detection`. It is fed by the endpoints' shared call counters (read every interval:
// the workers' counts merged without locks) and by the workers' consecutive-failure reports
// (posted here); its verdict goes into the next snapshot, which takes ejected endpoints out of
// every worker's picker within one event-loop turn.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/outlier_detection.h"
#include "proxy/snapshot.h"

namespace sluice::proxy {

class OutlierControl {
 public:
  // `republish` builds and hands out a new snapshot; it is called when the verdict changes and
  // reads ejections().
  OutlierControl(asio::io_context& control, std::function<void()> republish);

  // After every snapshot: detectors follow the clusters and their endpoints (state kept by
  // address); a cluster whose outlier_detection changed starts afresh.
  void sync(const Snapshot& snapshot);
  // A worker saw a run of failures on this endpoint.
  void on_consecutive_failures(const std::string& cluster, const std::string& address);
  const Ejections& ejections() const { return ejections_; }

 private:
  struct Cluster {
    explicit Cluster(const core::OutlierConfig& config) : detector(config) {}
    core::OutlierDetector detector;
    std::vector<std::shared_ptr<EndpointStats>> stats;   // by detector index
    std::vector<std::pair<uint64_t, uint64_t>> counted;  // successes, failures read so far
    std::vector<bool> was_ejected;                       // for transitions (logs, metrics)
    std::unique_ptr<asio::steady_timer> timer;
  };
  void arm(const std::string& name, Cluster& cluster);
  void tick(const std::string& name);
  // After the detector changed its mind: metrics, log lines, the ejection set, a new snapshot.
  void publish_verdict(const std::string& name, Cluster& cluster);

  asio::io_context& control_;
  std::function<void()> republish_;
  std::map<std::string, Cluster> clusters_;
  Ejections ejections_;
};

}  // namespace sluice::proxy
