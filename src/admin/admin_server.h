// The admin HTTP endpoint. It serves whatever read-only handlers the proxy or the client library
// register; it knows neither. It runs on one io_context (the control thread's): handlers run there,
// and every method must be called on that thread (or before the io_context runs).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <asio/io_context.hpp>

#include "admin/http_request.h"
#include "admin/http_response.h"
#include "base/expected.h"

namespace sluice::admin {

struct AdminServerLimits {
  size_t max_connections = 64;  // more are answered 503 and closed
  // Time a client gets to send a whole request, or to take a whole response. Not extended by
  // partial progress, so a client trickling bytes cannot hold a connection longer.
  std::chrono::milliseconds idle_timeout{30'000};
  // After the last response of a closing connection: how long unread input is drained so the
  // response is not lost to a TCP reset.
  std::chrono::milliseconds linger_timeout{2'000};
};

struct AdminServerState;

class AdminServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  explicit AdminServer(asio::io_context& io, AdminServerLimits limits = {});
  ~AdminServer();  // stop()s
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Exact path match (the query is not part of it). Unknown paths get 404 listing the known ones;
  // a known path with another method gets 405 with Allow. A handler that throws gets a 500.
  void handle(std::string method, std::string path, Handler handler);

  // Binds host:port (an IP literal or "localhost"; port 0 picks a free port) with SO_REUSEADDR
  // and starts accepting. Returns the bound port.
  Expected<uint16_t, std::string> listen(const std::string& host, uint16_t port);

  // Closes the listening socket and every connection. listen() may be called again afterwards.
  void stop();

  // Connections not yet released (closed ones leave once their pending operations finish).
  size_t connection_count() const;

 private:
  std::shared_ptr<AdminServerState> state_;
};

}  // namespace sluice::admin
