#include "proxy/cluster_discovery.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/ip/address.hpp>
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

bool is_ip_literal(const std::string& host) {
  asio::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Static names change rarely: ask again at most every 5 s (hosts-file answers carry no TTL).
constexpr std::chrono::milliseconds kNameMinRefresh{5000};
constexpr std::chrono::milliseconds kNameMaxRefresh{30000};

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
  sync_names(config);
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

void ClusterDiscovery::sync_names(const config::Config& config) {
  std::map<std::string, NameEntry> next;
  for (const auto& c : config.clusters) {
    if (c.discovery) continue;
    for (const auto& e : c.endpoints) {
      if (is_ip_literal(e.address.host)) continue;
      const std::string key = e.address.to_string();
      if (next.contains(key)) continue;
      auto old = names_.find(key);
      if (old != names_.end()) {
        next.emplace(key, std::move(old->second));
        continue;
      }
      config::Discovery d;
      d.type = "dns";
      d.name = e.address;
      d.system_lookup = true;
      d.min_refresh = kNameMinRefresh;
      d.max_refresh = kNameMaxRefresh;
      auto resolver = discovery::ResolverRegistry::builtin().create(io_, d);
      if (!resolver) {
        spdlog::error("endpoint {}: {}", key, resolver.error());
        continue;
      }
      next[key].resolver = std::move(*resolver);
    }
  }
  names_ = std::move(next);
  for (auto& [key, entry] : names_) {
    if (entry.started || !entry.resolver) continue;
    entry.started = true;
    entry.resolver->start(
        [this, name = key](discovery::ResolveResult r) { on_name_result(name, std::move(r)); });
  }
}

void ClusterDiscovery::on_name_result(const std::string& name, discovery::ResolveResult result) {
  auto it = names_.find(name);
  if (it == names_.end()) return;
  it->second.answered = true;
  if (!result) {
    spdlog::warn("endpoint {}: cannot resolve, keeping its last addresses: {}", name,
                 result.error());
    return;
  }
  if (it->second.addresses && *it->second.addresses == *result) return;
  it->second.addresses = std::move(*result);
  spdlog::info("endpoint {}: {} addresses", name, it->second.addresses->size());
  on_change_();
}

bool ClusterDiscovery::names_answered() const {
  return std::all_of(names_.begin(), names_.end(),
                     [](const auto& n) { return n.second.answered || !n.second.resolver; });
}

config::Config ClusterDiscovery::fill(config::Config config) const {
  for (auto& c : config.clusters) {
    auto it = entries_.find(c.name);
    if (it != entries_.end() && it->second.endpoints) {
      c.endpoints = *it->second.endpoints;
      continue;
    }
    if (c.discovery) continue;
    std::vector<config::Endpoint> resolved;
    for (const auto& e : c.endpoints) {
      if (is_ip_literal(e.address.host)) {
        resolved.push_back(e);
        continue;
      }
      auto name = names_.find(e.address.to_string());
      if (name == names_.end() || !name->second.addresses) continue;  // not answered yet
      for (const auto& a : *name->second.addresses) {
        config::Endpoint each = e;
        each.address = a.address;
        resolved.push_back(std::move(each));
      }
    }
    c.endpoints = std::move(resolved);
  }
  return config;
}

std::map<std::string, DiscoveryStatus> ClusterDiscovery::status() const {
  std::map<std::string, DiscoveryStatus> out;
  for (const auto& [name, e] : entries_) out[name] = e.status;
  return out;
}

}  // namespace sluice::proxy
