#include "proxy/health_control.h"

#include <spdlog/spdlog.h>

#include <asio/post.hpp>
#include <chrono>

namespace sluice::proxy {
namespace {

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Calls an endpoint has started: finished ones by status plus those in flight.
uint64_t calls_started(const EndpointStats& stats) {
  uint64_t n = 0;
  for (const auto& c : stats.calls) n += read(c);
  return n + static_cast<uint64_t>(std::max<int64_t>(0, read(stats.in_flight)));
}

// An endpoint address as a TCP endpoint; nullopt for a name (endpoints reach snapshots as
// addresses once discovery has resolved them).
std::optional<asio::ip::tcp::endpoint> tcp_endpoint(const config::HostPort& address) {
  asio::error_code ec;
  std::string host = address.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const auto ip = asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  return asio::ip::tcp::endpoint(ip, address.port);
}

}  // namespace

HealthControl::HealthControl(asio::io_context& control, std::function<void()> republish,
                             uint64_t seed)
    : control_(control), republish_(std::move(republish)), random_(seed) {}

bool HealthControl::sync(const Snapshot& snapshot) {
  bool changed = false;
  std::map<std::string, Cluster> next;
  for (const auto& cs : snapshot.clusters) {
    if (!cs.config.health_check) continue;
    const core::HealthCheckConfig& config = *cs.config.health_check;
    const std::string& name = cs.config.name;
    auto old = clusters_.find(name);
    const bool keep = old != clusters_.end() && old->second.config == config;
    const bool first_sync = old == clusters_.end();
    if (!keep && old != clusters_.end()) changed = true;  // verdicts start afresh
    Cluster c;
    if (keep) {
      c = std::move(old->second);
    } else {
      // Counted as busy until the first look at its traffic, one interval from now.
      for (const auto& stats : cs.stats->endpoints) c.calls_seen += calls_started(*stats);
      c.busy = true;
    }
    c.config = config;
    std::unordered_map<std::string, Endpoint> endpoints;
    for (size_t i = 0; i < cs.stats->endpoints.size(); ++i) {
      const std::shared_ptr<EndpointStats>& stats = cs.stats->endpoints[i];
      auto found = c.endpoints.find(stats->address);
      if (found != c.endpoints.end()) {
        found->second.stats = stats;
        endpoints.emplace(stats->address, std::move(found->second));
        continue;
      }
      Endpoint e{nullptr, core::HealthCounter(config.initial_state), stats};
      stats->health.store(static_cast<int64_t>(config.initial_state), std::memory_order_relaxed);
      if (auto target = tcp_endpoint(cs.config.endpoints[i].address)) {
        const std::string address = stats->address;
        e.probe = std::make_unique<health::Probe>(
            control_.get_executor(), *target, config,
            [this, name, address](const health::CheckResult& r) { on_result(name, address, r); },
            [this, name, config] {
              auto it = clusters_.find(name);
              const bool busy = it != clusters_.end() && it->second.busy;
              return core::next_check_delay(config, false, false, busy, random_);
            });
        // Endpoints known at start spread their first checks; ones added later are checked
        // at once (they wait for it before they get calls).
        e.probe->start(core::next_check_delay(config, true, first_sync || !keep, true, random_));
      } else {
        spdlog::warn("cluster {}: endpoint {} is not an IP address; it is not health checked", name,
                     stats->address);
      }
      endpoints.emplace(stats->address, std::move(e));
    }
    c.endpoints = std::move(endpoints);  // probes of endpoints that left stop here
    auto [it, _] = next.emplace(name, std::move(c));
    if (!it->second.traffic_timer) arm_traffic_timer(name, it->second);
  }
  for (auto& [name, c] : clusters_) {
    if (!next.contains(name)) {
      changed = true;
      if (c.traffic_timer) c.traffic_timer->cancel();
    }
  }
  clusters_ = std::move(next);
  HealthVerdicts verdicts;
  for (const auto& [name, c] : clusters_) {
    auto& v = verdicts[name];
    for (const auto& [address, e] : c.endpoints) v.emplace(address, e.counter.state());
  }
  changed = changed || verdicts != verdicts_;
  verdicts_ = std::move(verdicts);
  return changed;
}

void HealthControl::on_result(const std::string& cluster, const std::string& address,
                              const health::CheckResult& result) {
  auto c = clusters_.find(cluster);
  if (c == clusters_.end()) return;
  auto it = c->second.endpoints.find(address);
  if (it == c->second.endpoints.end()) return;
  Endpoint& e = it->second;
  EndpointStats& stats = *e.stats;
  const auto outcome = static_cast<size_t>(result.outcome);
  bump(stats.health_checks[outcome]);
  stats.last_check_outcome.store(static_cast<int64_t>(outcome), std::memory_order_relaxed);
  stats.last_check_unix_ms.store(unix_ms_now(), std::memory_order_relaxed);
  stats.last_check_detail = result.detail;
  const core::Health before = e.counter.state();
  if (!e.counter.record(result.passed(), c->second.config)) return;
  const core::Health now = e.counter.state();
  stats.health.store(static_cast<int64_t>(now), std::memory_order_relaxed);
  verdicts_[cluster][address] = now;
  if (now == core::Health::kHealthy) {
    spdlog::info("cluster {}: endpoint {} is healthy ({}; was {})", cluster, address, result.detail,
                 core::health_name(before));
  } else {
    spdlog::warn("cluster {}: endpoint {} is unhealthy ({}: {}; was {})", cluster, address,
                 health::outcome_name(result.outcome), result.detail, core::health_name(before));
  }
  request_publish();
}

void HealthControl::watch_traffic(const std::string& name, Cluster& cluster) {
  uint64_t calls = 0;
  for (const auto& [_, e] : cluster.endpoints) calls += calls_started(*e.stats);
  const bool busy = calls != cluster.calls_seen;
  if (busy && !cluster.busy) {
    // Traffic resumed after a no-traffic wait: check now rather than at the long interval.
    for (auto& [_, e] : cluster.endpoints) {
      if (e.probe) e.probe->check_soon();
    }
  }
  cluster.busy = busy;
  cluster.calls_seen = calls;
  arm_traffic_timer(name, cluster);
}

void HealthControl::arm_traffic_timer(const std::string& name, Cluster& cluster) {
  if (!cluster.traffic_timer)
    cluster.traffic_timer = std::make_unique<asio::steady_timer>(control_);
  cluster.traffic_timer->expires_after(cluster.config.interval);
  cluster.traffic_timer->async_wait(
      [this, name, t = cluster.traffic_timer.get()](asio::error_code ec) {
        auto it = clusters_.find(name);
        if (ec || it == clusters_.end() || it->second.traffic_timer.get() != t) return;
        watch_traffic(name, it->second);
      });
}

void HealthControl::request_publish() {
  if (publish_posted_) return;
  publish_posted_ = true;
  // Posted: transitions of many endpoints in one event-loop turn make one snapshot.
  asio::post(control_, [this] {
    publish_posted_ = false;
    republish_();
  });
}

}  // namespace sluice::proxy
