#include "admin/router.h"

namespace sluice::admin {

void Router::add(std::string method, std::string path, Handler handler) {
  routes_[std::move(path)][std::move(method)] = std::move(handler);
}

HttpResponse Router::dispatch(const HttpRequest& request) const {
  auto route = routes_.find(request.target);
  if (route == routes_.end()) {
    std::string message = "not found; known paths:";
    for (const auto& [path, methods] : routes_) {
      message += "\n  ";
      message += path;
    }
    return text_response(404, message);
  }
  auto handler = route->second.find(request.method);
  if (handler == route->second.end()) {
    std::string allow;
    for (const auto& [method, unused] : route->second) {
      if (!allow.empty()) allow += ", ";
      allow += method;
    }
    HttpResponse response = text_response(405, "method not allowed; allowed: " + allow);
    response.headers.emplace_back("Allow", allow);
    return response;
  }
  return handler->second(request);
}

}  // namespace sluice::admin
