// Maps a call's service, method and :authority to a cluster. First matching route wins.
// Pure: built once per config on the control thread, read by every worker.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace sluice::proxy {

class Router {
 public:
  // `routes` must reference clusters by names found in `cluster_names` (the config validator
  // guarantees it); the route's cluster becomes an index into that list.
  Router(const std::vector<config::Route>& routes, const std::vector<std::string>& cluster_names);

  // The index of the cluster, or nullopt when no route matches. A route's authority matches
  // the whole :authority or its host part (without the port).
  std::optional<size_t> route(std::string_view service, std::string_view method,
                              std::string_view authority) const;

 private:
  struct Entry {
    std::string service;  // "" = any
    std::string method;   // "" = any
    std::string authority;
    size_t cluster;
  };
  std::vector<Entry> entries_;
};

}  // namespace sluice::proxy
