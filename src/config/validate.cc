#include "config/validate.h"

#include <map>
#include <string>

namespace sluice::config {
namespace {

using MaybeError = std::optional<ConfigError>;

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string indexed(std::string_view list, size_t index) {
  return std::string(list) + "[" + std::to_string(index) + "]";
}

MaybeError check_listeners(const Config& config, const Locations& where) {
  if (config.listeners.empty())
    return where.error("listeners", "at least one listener is required");
  std::map<std::string, size_t> names;
  std::map<std::string, size_t> addresses;
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const Listener& listener = config.listeners[i];
    auto [name_it, new_name] = names.emplace(listener.name, i);
    if (!new_name) {
      return where.error(indexed("listeners", i) + ".name",
                         "duplicate listener name " + quoted(listener.name) + " (first used by " +
                             indexed("listeners", name_it->second) + ")");
    }
    if (listener.address.port == 0) continue;  // each port-0 listener gets its own port
    auto [address_it, new_address] = addresses.emplace(listener.address.to_string(), i);
    if (!new_address) {
      return where.error(indexed("listeners", i) + ".address",
                         "address " + listener.address.to_string() + " is already used by " +
                             indexed("listeners", address_it->second));
    }
  }
  if (config.admin.enabled && config.admin.address.port != 0) {
    auto it = addresses.find(config.admin.address.to_string());
    if (it != addresses.end()) {
      return where.error("admin.address", "address " + config.admin.address.to_string() +
                                              " is already used by " +
                                              indexed("listeners", it->second));
    }
  }
  return std::nullopt;
}

// Each discovery type needs its own fields and takes no other type's.
MaybeError validate_discovery(const Discovery& d, const std::string& path, const Locations& where) {
  const Discovery defaults;
  struct Field {
    const char* name;
    const char* type;  // the discovery type it belongs to
    bool present;
    bool required;
  };
  const Field fields[] = {
      {"path", "file", !d.path.empty(), true},
      {"name", "dns", !d.name.host.empty(), true},
      {"server", "dns", d.server.has_value(), false},
      {"min_refresh", "dns", d.min_refresh != defaults.min_refresh, false},
      {"max_refresh", "dns", d.max_refresh != defaults.max_refresh, false},
      {"endpoints", "etcd", !d.etcd_endpoints.empty(), true},
      {"prefix", "etcd", !d.prefix.empty(), true},
  };
  for (const Field& f : fields) {
    if (f.present && d.type != f.type) {
      return where.error(path + "." + f.name, std::string(f.name) +
                                                  " does not apply to discovery type " +
                                                  quoted(d.type) + " (only to " + f.type + ")");
    }
    if (f.required && !f.present && d.type == f.type) {
      return where.error(path, "discovery type " + quoted(d.type) + " needs " + quoted(f.name));
    }
  }
  if (d.type == "dns" && d.min_refresh.count() <= 0) {
    return where.error(path + ".min_refresh", "must be more than 0");
  }
  if (d.type == "dns" && d.max_refresh < d.min_refresh) {
    return where.error(path + ".max_refresh", "must not be less than min_refresh");
  }
  return std::nullopt;
}

MaybeError check_clusters(const Config& config, const Locations& where) {
  if (config.clusters.empty()) return where.error("clusters", "at least one cluster is required");
  std::map<std::string, size_t> names;
  for (size_t i = 0; i < config.clusters.size(); ++i) {
    const Cluster& cluster = config.clusters[i];
    const std::string path = indexed("clusters", i);
    auto [name_it, new_name] = names.emplace(cluster.name, i);
    if (!new_name) {
      return where.error(path + ".name", "duplicate cluster name " + quoted(cluster.name) +
                                             " (first used by " +
                                             indexed("clusters", name_it->second) + ")");
    }
    if (cluster.discovery && !cluster.endpoints.empty()) {
      return where.error(path + ".discovery",
                         "cluster " + quoted(cluster.name) +
                             " has both endpoints and discovery; give one of them");
    }
    if (cluster.discovery) {
      if (auto error = validate_discovery(*cluster.discovery, path + ".discovery", where)) {
        return error;
      }
    }
    if (cluster.endpoints.empty() && !cluster.discovery) {
      return where.error(path + ".endpoints", "cluster " + quoted(cluster.name) +
                                                  " needs at least one endpoint (or discovery)");
    }
    std::map<std::string, size_t> endpoints;
    for (size_t j = 0; j < cluster.endpoints.size(); ++j) {
      const std::string address = cluster.endpoints[j].address.to_string();
      auto [it, is_new] = endpoints.emplace(address, j);
      if (!is_new) {
        return where.error(indexed(path + ".endpoints", j),
                           "duplicate endpoint " + address + " (also " +
                               indexed(path + ".endpoints", it->second) + ")");
      }
    }
  }
  return std::nullopt;
}

std::string cluster_names(const Config& config) {
  std::string names;
  for (const Cluster& cluster : config.clusters) {
    if (!names.empty()) names += ", ";
    names += cluster.name;
  }
  return names;
}

MaybeError check_routes(Config& config, const Locations& where) {
  if (config.routes.empty()) {
    if (config.clusters.size() != 1) {
      return where.error("routes", "routes are required when there is more than one cluster (" +
                                       std::to_string(config.clusters.size()) + " clusters)");
    }
    config.routes.push_back(catch_all_route(config.clusters.front().name));
    return std::nullopt;
  }
  for (size_t i = 0; i < config.routes.size(); ++i) {
    const Route& route = config.routes[i];
    const std::string path = indexed("routes", i);
    if (!route.match.method.empty() && route.match.service.empty()) {
      return where.error(path + ".match.method",
                         "a method needs a service: set match.service to the method's service");
    }
    if (config.find_cluster(route.cluster) == nullptr) {
      return where.error(path + ".cluster", "unknown cluster " + quoted(route.cluster) +
                                                " (defined: " + cluster_names(config) + ")");
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<ConfigError> validate(Config& config, const Locations& where) {
  if (auto error = check_listeners(config, where)) return error;
  if (auto error = check_clusters(config, where)) return error;
  return check_routes(config, where);
}

}  // namespace sluice::config
