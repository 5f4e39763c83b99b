// The command-line quick mode: `sluice --listen ADDR --upstream ADDR ...` without a file.
#include <set>

#include "config/config.h"

namespace sluice::config {
namespace {

constexpr std::string_view kFlagsSource = "<flags>";

Unexpected<ConfigError> flag_error(std::string field, std::string message) {
  return Unexpected<ConfigError>(
      ConfigError{std::string(kFlagsSource), 0, 0, std::move(field), std::move(message)});
}

}  // namespace

Expected<Config, ConfigError> quick_config(std::string_view listen,
                                           const std::vector<std::string>& upstreams) {
  Config config;
  config.source = std::string(kFlagsSource);
  auto listen_address = parse_host_port(listen);
  if (!listen_address) return flag_error("--listen", listen_address.error());
  config.listeners.push_back(Listener{"main", *listen_address});

  if (upstreams.empty()) return flag_error("--upstream", "at least one upstream is required");
  Cluster cluster;
  cluster.name = "default";
  std::set<std::string> seen;
  for (size_t i = 0; i < upstreams.size(); ++i) {
    const std::string field = "--upstream[" + std::to_string(i) + "]";
    auto address = parse_host_port(upstreams[i]);
    if (!address) return flag_error(field, address.error());
    if (address->port == 0) return flag_error(field, "an upstream needs a port other than 0");
    if (!seen.insert(address->to_string()).second) {
      return flag_error(field, "duplicate upstream " + address->to_string());
    }
    cluster.endpoints.push_back(Endpoint{*address});
  }
  config.clusters.push_back(std::move(cluster));
  config.routes.push_back(catch_all_route("default"));
  return config;
}

}  // namespace sluice::config
