#include "proxy/router.h"

#include <algorithm>

namespace sluice::proxy {
namespace {

// "host:port" -> "host"; "[v6]:port" -> "[v6]"; no port -> unchanged.
std::string_view host_of(std::string_view authority) {
  auto colon = authority.rfind(':');
  if (colon == std::string_view::npos || authority.find(']', colon) != std::string_view::npos) {
    return authority;
  }
  return authority.substr(0, colon);
}

}  // namespace

Router::Router(const std::vector<config::Route>& routes,
               const std::vector<std::string>& cluster_names) {
  for (const auto& r : routes) {
    auto it = std::find(cluster_names.begin(), cluster_names.end(), r.cluster);
    if (it == cluster_names.end()) continue;  // unreachable for a validated config
    Target target{static_cast<size_t>(it - cluster_names.begin()), r.timeout, r.max_timeout,
                  nullptr, nullptr};
    if (r.service_config) {
      target.service_config = std::make_shared<const core::ServiceConfig>(*r.service_config);
      target.methods = std::make_shared<const core::MethodConfigIndex>(*target.service_config);
    }
    entries_.push_back({r.match.service == "*" ? "" : r.match.service, r.match.method,
                        r.match.authority, std::move(target)});
  }
}

const Router::Target* Router::route(std::string_view service, std::string_view method,
                                    std::string_view authority) const {
  for (const auto& e : entries_) {
    if (!e.service.empty() && e.service != service) continue;
    if (!e.method.empty() && e.method != method) continue;
    if (!e.authority.empty() && e.authority != authority && e.authority != host_of(authority)) {
      continue;
    }
    return &e.target;
  }
  return nullptr;
}

}  // namespace sluice::proxy
