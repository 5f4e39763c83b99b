// Internal: what the server and its connections share. Held by shared_ptr so that completion
// handlers still queued after the AdminServer is gone find it alive.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "admin/admin_server.h"
#include "admin/router.h"

namespace sluice::admin {

class AdminConnection;

struct AdminServerState {
  AdminServerState(asio::io_context& io, AdminServerLimits limits)
      : acceptor(io), accept_retry(io), limits(limits) {}

  asio::ip::tcp::acceptor acceptor;
  asio::steady_timer accept_retry;  // backs off after accept errors such as EMFILE
  uint64_t generation = 0;          // bumped by stop(); stale accept completions see the change
  Router router;
  AdminServerLimits limits;
  std::unordered_map<AdminConnection*, std::weak_ptr<AdminConnection>> connections;
};

}  // namespace sluice::admin
