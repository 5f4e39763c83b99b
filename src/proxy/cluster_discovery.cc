#include "proxy/cluster_discovery.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace sluice::proxy {
namespace {

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

config::Discovery with_absolute_path(config::Discovery d, const std::string& config_source) {
  if (d.path.empty() || d.path[0] == '/') return d;
  auto slash = config_source.rfind('/');
  if (slash != std::string::npos) d.path = config_source.substr(0, slash + 1) + d.path;
  return d;
}

}  // namespace

ClusterDiscovery::ClusterDiscovery(asio::io_context& io, std::function<void()> on_change)
    : io_(io), on_change_(std::move(on_change)) {}

void ClusterDiscovery::sync(const config::Config& config) {
  std::map<std::string, Entry> next;
  for (const auto& c : config.clusters) {
    if (!c.discovery) continue;
    auto d = with_absolute_path(*c.discovery, config.source);
    auto old = entries_.find(c.name);
    if (old != entries_.end() && old->second.discovery == d) {
      next.emplace(c.name, std::move(old->second));  // unchanged: keep watching
      continue;
    }
    next[c.name].discovery = d;
  }
  entries_ = std::move(next);
  for (auto& [name, entry] : entries_) {
    if (entry.resolver) continue;
    auto resolver = discovery::ResolverRegistry::builtin().create(io_, entry.discovery);
    if (!resolver) {
      entry.status.last_error = resolver.error();
      spdlog::error("cluster {}: {}", name, resolver.error());
      continue;
    }
    entry.resolver = std::move(*resolver);
    entry.status.source = entry.resolver->source();
    entry.resolver->start(
        [this, cluster = name](discovery::ResolveResult r) { on_result(cluster, std::move(r)); });
  }
}

void ClusterDiscovery::on_result(const std::string& cluster, discovery::ResolveResult result) {
  auto it = entries_.find(cluster);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  if (!result) {
    ++e.status.errors;
    e.status.last_error = result.error();
    spdlog::warn("cluster {}: discovery error, keeping the last good set of {} endpoints: {}",
                 cluster, e.status.endpoints, result.error());
    return;
  }
  ++e.status.updates;
  e.status.last_error.clear();
  e.status.last_update_ms = unix_ms();
  e.status.endpoints = result->size();
  // Resolvers that poll (DNS) report every answer, so /clusters shows when the last one came;
  // an unchanged set needs no new snapshot.
  if (e.endpoints && *e.endpoints == *result) return;
  e.endpoints = std::move(*result);
  spdlog::info("cluster {}: {} endpoints from {}", cluster, e.status.endpoints, e.status.source);
  on_change_();
}

config::Config ClusterDiscovery::fill(config::Config config) const {
  for (auto& c : config.clusters) {
    auto it = entries_.find(c.name);
    if (it != entries_.end() && it->second.endpoints) c.endpoints = *it->second.endpoints;
  }
  return config;
}

std::map<std::string, DiscoveryStatus> ClusterDiscovery::status() const {
  std::map<std::string, DiscoveryStatus> out;
  for (const auto& [name, e] : entries_) out[name] = e.status;
  return out;
}

}  // namespace sluice::proxy
