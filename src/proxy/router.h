// Maps a call's service, method and :authority to a cluster. First matching route wins.
// Pure: built once per config on the control thread, read by every worker.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/service_config.h"

namespace sluice::proxy {

class Router {
 public:
  // `routes` must reference clusters by names found in `cluster_names` (the config validator
  // guarantees it); the route's cluster becomes an index into that list.
  Router(const std::vector<config::Route>& routes, const std::vector<std::string>& cluster_names);

  // What a matching route says about a call.
  struct Target {
    size_t cluster;              // index into the cluster list
    config::Millis timeout;      // deadline when the client sent none; 0 = none
    config::Millis max_timeout;  // cap on the deadline; 0 = none
    // The route's own service_config (it replaces the cluster's), or null. Owns its copy.
    std::shared_ptr<const core::ServiceConfig> service_config;
    std::shared_ptr<const core::MethodConfigIndex> methods;
  };

  // The first matching route's target, or nullptr. A route's authority matches the whole
  // :authority or its host part (without the port).
  const Target* route(std::string_view service, std::string_view method,
                      std::string_view authority) const;

 private:
  struct Entry {
    std::string service;  // "" = any
    std::string method;   // "" = any
    std::string authority;
    Target target;
  };
  std::vector<Entry> entries_;
};

}  // namespace sluice::proxy
