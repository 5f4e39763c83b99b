#include "proxy/outlier_control.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <unordered_map>

namespace sluice::proxy {
namespace {

core::OutlierDetector::Nanos steady_now() {
  return std::chrono::steady_clock::now().time_since_epoch();
}

// Successes and failures among an endpoint's finished calls so far, by the failure codes.
std::pair<uint64_t, uint64_t> outcome_totals(const EndpointStats& stats,
                                             const core::OutlierConfig& config) {
  std::pair<uint64_t, uint64_t> totals{0, 0};
  for (int code = 0; code < wire::kStatusCodeCount; ++code) {
    const uint64_t n = read(stats.calls[static_cast<size_t>(code)]);
    (config.is_failure(code) ? totals.second : totals.first) += n;
  }
  return totals;
}

// The endpoint's gauges while ejected: 1, and until when (unix ms).
void mark_ejected(EndpointStats& stats, core::OutlierDetector::Nanos left,
                  std::chrono::nanoseconds wall_now) {
  const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(wall_now + left);
  stats.ejected.store(1, std::memory_order_relaxed);
  stats.ejected_until_unix_ms.store(until.count(), std::memory_order_relaxed);
}

}  // namespace

OutlierControl::OutlierControl(asio::io_context& control, std::function<void()> republish)
    : control_(control), republish_(std::move(republish)) {}

void OutlierControl::sync(const Snapshot& snapshot) {
  std::map<std::string, Cluster> next;
  for (const auto& cs : snapshot.clusters) {
    if (!cs.config.outlier_detection) continue;
    const core::OutlierConfig& config = *cs.config.outlier_detection;
    auto old = clusters_.find(cs.config.name);
    const bool keep = old != clusters_.end() && old->second.detector.config() == config;
    auto [it, _] = next.emplace(cs.config.name, keep ? std::move(old->second) : Cluster(config));
    Cluster& c = it->second;
    // What was counted per address so far, so calls before this snapshot are not counted twice.
    std::unordered_map<std::string, std::pair<uint64_t, uint64_t>> counted;
    for (size_t i = 0; i < c.stats.size(); ++i) counted[c.stats[i]->address] = c.counted[i];
    std::vector<std::string> addresses;
    c.stats = cs.stats->endpoints;
    c.counted.clear();
    for (const auto& e : c.stats) {
      addresses.push_back(e->address);
      auto found = counted.find(e->address);
      c.counted.push_back(found != counted.end() ? found->second : outcome_totals(*e, config));
    }
    c.detector.set_endpoints(addresses);
    c.was_ejected.assign(addresses.size(), false);
    for (size_t i = 0; i < addresses.size(); ++i) c.was_ejected[i] = c.detector.ejected(i);
    if (!c.timer) arm(cs.config.name, c);
  }
  for (auto& [name, c] : clusters_) {
    if (c.timer && !next.contains(name)) c.timer->cancel();
    // Whatever is still ejected after this sync is marked again below.
    for (const auto& stats : c.stats) {
      stats->ejected.store(0, std::memory_order_relaxed);
      stats->ejected_until_unix_ms.store(0, std::memory_order_relaxed);
    }
  }
  clusters_ = std::move(next);
  // Endpoints that left are no longer ejected anywhere.
  Ejections kept;
  const auto steady = steady_now();
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  for (auto& [name, c] : clusters_) {
    for (size_t i = 0; i < c.stats.size(); ++i) {
      if (!c.detector.ejected(i)) continue;
      kept[name].insert(c.stats[i]->address);
      mark_ejected(*c.stats[i], c.detector.ejected_until(i) - steady, wall);
    }
  }
  ejections_ = std::move(kept);
}

void OutlierControl::arm(const std::string& name, Cluster& cluster) {
  cluster.timer = std::make_unique<asio::steady_timer>(control_);
  cluster.timer->expires_after(cluster.detector.config().interval);
  cluster.timer->async_wait([this, name, t = cluster.timer.get()](asio::error_code ec) {
    auto it = clusters_.find(name);
    if (ec || it == clusters_.end() || it->second.timer.get() != t) return;
    tick(name);
  });
}

void OutlierControl::tick(const std::string& name) {
  Cluster& c = clusters_.at(name);
  const core::OutlierConfig& config = c.detector.config();
  for (size_t i = 0; i < c.stats.size(); ++i) {
    const auto totals = outcome_totals(*c.stats[i], config);
    c.detector.add_counts(i, totals.first - c.counted[i].first,
                          totals.second - c.counted[i].second);
    c.counted[i] = totals;
  }
  const bool changed = c.detector.evaluate(steady_now());
  std::unique_ptr<asio::steady_timer> done = std::move(c.timer);  // fired; a fresh one follows
  arm(name, c);
  if (changed) publish_verdict(name, c);
}

void OutlierControl::on_consecutive_failures(const std::string& cluster,
                                             const std::string& address) {
  auto it = clusters_.find(cluster);
  if (it == clusters_.end()) return;
  Cluster& c = it->second;
  for (size_t i = 0; i < c.stats.size(); ++i) {
    if (c.stats[i]->address != address) continue;
    if (c.detector.on_consecutive_failures(i, steady_now())) publish_verdict(cluster, c);
    return;
  }
}

void OutlierControl::publish_verdict(const std::string& name, Cluster& c) {
  const auto steady = steady_now();
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  std::set<std::string>& ejected = ejections_[name];
  ejected.clear();
  for (size_t i = 0; i < c.stats.size(); ++i) {
    EndpointStats& stats = *c.stats[i];
    const auto& state = c.detector.endpoints()[i];
    if (state.ejected) ejected.insert(stats.address);
    if (state.ejected == c.was_ejected[i]) continue;
    c.was_ejected[i] = state.ejected;
    if (state.ejected) {
      const auto left = c.detector.ejected_until(i) - steady;
      mark_ejected(stats, left, wall);
      bump(stats.ejections[static_cast<size_t>(state.reason) - 1]);
      spdlog::warn("cluster {}: endpoint {} ejected ({}, ejection {}), for {} ms", name,
                   stats.address, core::ejection_reason_name(state.reason), state.ejections,
                   std::chrono::duration_cast<std::chrono::milliseconds>(left).count());
    } else {
      stats.ejected.store(0, std::memory_order_relaxed);
      stats.ejected_until_unix_ms.store(0, std::memory_order_relaxed);
      spdlog::info("cluster {}: endpoint {} is back from ejection", name, stats.address);
    }
  }
  republish_();
}

}  // namespace sluice::proxy
