// Maps (method, exact path) to a handler; answers 404 and 405 itself.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "admin/http_request.h"
#include "admin/http_response.h"

namespace sluice::admin {

class Router {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // A later registration of the same method and path replaces the earlier one.
  void add(std::string method, std::string path, Handler handler);

  // The handler's response; 404 listing the known paths for an unknown path; 405 with Allow for
  // a known path and another method.
  HttpResponse dispatch(const HttpRequest& request) const;

 private:
  std::map<std::string, std::map<std::string, Handler>, std::less<>> routes_;  // path -> method
};

}  // namespace sluice::admin
