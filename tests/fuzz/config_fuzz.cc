// Feeds arbitrary bytes to the config parser and the address parser. Beyond "no crash", checks
// the invariants a successful parse promises the proxy.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

void check_invariants(const sluice::config::Config& config) {
  check(!config.listeners.empty());
  check(!config.clusters.empty());
  check(!config.routes.empty());
  check(config.workers <= 256);
  check(config.drain_timeout.count() > 0);
  for (const auto& route : config.routes) {
    check(config.find_cluster(route.cluster) != nullptr);
    check(route.match.method.empty() || !route.match.service.empty());
  }
  for (const auto& cluster : config.clusters) {
    check(!cluster.name.empty());
    check(!cluster.endpoints.empty());
    check(cluster.max_connections_per_endpoint >= 1);
    for (const auto& endpoint : cluster.endpoints) check(endpoint.address.port != 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = sluice::config::parse_config_string(text, "<fuzz>");
  if (config) {
    check_invariants(*config);
  } else {
    check(!config.error().to_string().empty());
  }

  auto address = sluice::config::parse_host_port(text);
  if (address) {
    // Whatever parses must print back to something that parses to the same value.
    auto again = sluice::config::parse_host_port(address->to_string());
    check(again && *again == *address);
  }
  return 0;
}
