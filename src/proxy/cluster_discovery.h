// The proxy's side of discovery: one resolver per cluster that has `discovery`, the last good
// endpoint set of each, and their status for the admin pages. Static endpoints given by name
// are resolved here too (one resolver per name, every address used, asked again like DNS
// discovery): workers never resolve, so a slow DNS server never blocks a worker. Runs on the
// control thread.
#pragma once

#include <asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "discovery/resolver.h"

namespace sluice::proxy {

struct DiscoveryStatus {
  std::string source;          // "file:/path"
  int64_t last_update_ms = 0;  // unix time of the last good set, 0 = none yet
  std::string last_error;      // "" when the last resolution succeeded
  uint64_t updates = 0;
  uint64_t errors = 0;
  size_t endpoints = 0;
};

class ClusterDiscovery {
 public:
  // `on_change` runs (on the io_context's thread) whenever a cluster's good set changed.
  ClusterDiscovery(asio::io_context& io, std::function<void()> on_change);

  // Starts, keeps or stops resolvers to match the discovery clusters of `config`; relative
  // paths are taken from the config file's folder.
  void sync(const config::Config& config);
  // `config` with each discovery cluster's endpoints set to its last good set (empty before
  // the first one), and each static name replaced by its addresses (none before the first
  // answer).
  config::Config fill(config::Config config) const;
  std::map<std::string, DiscoveryStatus> status() const;
  // Every static name had its first answer (good or not).
  bool names_answered() const;

 private:
  struct Entry {
    config::Discovery discovery;
    std::unique_ptr<discovery::Resolver> resolver;
    std::optional<discovery::EndpointList> endpoints;
    DiscoveryStatus status;
  };
  struct NameEntry {
    std::unique_ptr<discovery::Resolver> resolver;
    std::optional<discovery::EndpointList> addresses;
    bool started = false;
    bool answered = false;  // a first result (good or not) came
  };
  void on_result(const std::string& cluster, discovery::ResolveResult result);
  void sync_names(const config::Config& config);
  void on_name_result(const std::string& name, discovery::ResolveResult result);

  asio::io_context& io_;
  std::function<void()> on_change_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, NameEntry> names_;  // by "host:port"
};

}  // namespace sluice::proxy
