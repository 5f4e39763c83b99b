#include "admin/admin_server.h"

#include <utility>
#include <vector>

#include "admin/admin_connection.h"
#include "admin/admin_server_state.h"

namespace sluice::admin {
namespace {

constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

// Over the connection cap: a best-effort 503 without waiting on the client, then close.
void reject_busy(asio::ip::tcp::socket socket) {
  static const std::string kBusy =
      serialize(text_response(503, "too many admin connections"), /*keep_alive=*/false);
  asio::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(kBusy), ignored);
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

void accept_next(const std::shared_ptr<AdminServerState>& state) {
  uint64_t generation = state->generation;
  state->acceptor.async_accept(
      [state, generation](const asio::error_code& ec, asio::ip::tcp::socket socket) {
        if (state->generation != generation || !state->acceptor.is_open()) return;
        if (ec) {
          // EMFILE and friends: back off rather than spin on the failing accept.
          state->accept_retry.expires_after(kAcceptRetryDelay);
          state->accept_retry.async_wait([state, generation](const asio::error_code& wait_ec) {
            if (!wait_ec && state->generation == generation) accept_next(state);
          });
          return;
        }
        if (state->connections.size() >= state->limits.max_connections) {
          reject_busy(std::move(socket));
        } else {
          auto connection = std::make_shared<AdminConnection>(state, std::move(socket));
          state->connections.emplace(connection.get(), connection);
          connection->start();
        }
        accept_next(state);
      });
}

}  // namespace

AdminServer::AdminServer(asio::io_context& io, AdminServerLimits limits)
    : state_(std::make_shared<AdminServerState>(io, limits)) {}

AdminServer::~AdminServer() { stop(); }

void AdminServer::handle(std::string method, std::string path, Handler handler) {
  state_->router.add(std::move(method), std::move(path), std::move(handler));
}

Expected<uint16_t, std::string> AdminServer::listen(const std::string& host, uint16_t port) {
  auto& acceptor = state_->acceptor;
  if (acceptor.is_open()) return Unexpected<std::string>("admin server is already listening");

  std::string literal = host;
  if (literal == "localhost") literal = "127.0.0.1";
  if (literal.size() >= 2 && literal.front() == '[' && literal.back() == ']') {
    literal = literal.substr(1, literal.size() - 2);
  }
  asio::error_code ec;
  asio::ip::address address = asio::ip::make_address(literal, ec);
  if (ec) return Unexpected<std::string>("invalid admin address '" + host + "': " + ec.message());

  asio::ip::tcp::endpoint endpoint(address, port);
  std::string where = host + ":" + std::to_string(port);
  auto fail = [&](const char* step) {
    asio::error_code ignored;
    acceptor.close(ignored);
    return Unexpected<std::string>(std::string(step) + " " + where + ": " + ec.message());
  };
  if (acceptor.open(endpoint.protocol(), ec); ec) return fail("open");
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec)
    return fail("setsockopt");
  if (acceptor.bind(endpoint, ec); ec) return fail("bind");
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return fail("listen");
  uint16_t bound_port = acceptor.local_endpoint(ec).port();
  if (ec) return fail("getsockname");

  accept_next(state_);
  return bound_port;
}

void AdminServer::stop() {
  ++state_->generation;
  asio::error_code ignored;
  state_->acceptor.close(ignored);
  state_->accept_retry.cancel();
  // Copy first: closing may release a connection, which erases itself from the map.
  std::vector<std::shared_ptr<AdminConnection>> live;
  for (const auto& [unused, weak] : state_->connections) {
    if (auto connection = weak.lock()) live.push_back(std::move(connection));
  }
  for (const auto& connection : live) connection->close();
}

size_t AdminServer::connection_count() const { return state_->connections.size(); }

}  // namespace sluice::admin
