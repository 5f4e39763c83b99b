#include "load/load_connection.h"

#include <spdlog/spdlog.h>

namespace sluice::load {
namespace {

// Between a lost connection and the next attempt: quick enough to notice little, slow enough
// not to spin against a target that is down.
constexpr std::chrono::milliseconds kReconnectPause{200};
// Assumed until the server's SETTINGS arrive (gRPC servers advertise 100 or more).
constexpr uint32_t kAssumedStreamLimit = 100;

}  // namespace

LoadConnection::LoadConnection(asio::io_context& io, asio::ip::tcp::endpoint target,
                               const http2::HeaderBlock& request_headers,
                               std::chrono::milliseconds connect_timeout, Listener& listener)
    : io_(io),
      target_(std::move(target)),
      headers_(request_headers),
      connect_timeout_(connect_timeout),
      listener_(listener),
      reconnect_timer_(io) {}

LoadConnection::~LoadConnection() { shut_down(); }

void LoadConnection::connect() {
  // Large windows: a load generator should never be the one that slows the responses down.
  http2::SessionSettings settings;
  settings.stream_window = 4u << 20;
  settings.connection_window = 64u << 20;
  conn_ = http2::ClientConnection::create(io_.get_executor(), settings, *this);
  conn_->connect(target_, connect_timeout_);
}

void LoadConnection::shut_down() {
  shut_down_ = true;
  reconnect_timer_.cancel();
  if (conn_) {
    auto conn = std::move(conn_);
    conn->close("load run finished");
  }
}

bool LoadConnection::ready() const {
  return conn_ && conn_->connected() && conn_->has_free_slot(kAssumedStreamLimit);
}

bool LoadConnection::start(LoadCall& call) {
  auto id = conn_->submit_request(headers_, /*has_body=*/true, &call);
  if (!id) {
    spdlog::warn("cannot start a call: {}", id.error());
    return false;
  }
  call.set_stream_id(*id);
  return true;
}

void LoadConnection::consume(int32_t stream_id, size_t n) {
  if (conn_) conn_->consume(stream_id, n);
}

void LoadConnection::reset_stream(int32_t stream_id) {
  if (conn_) conn_->reset_stream(stream_id, 0x8 /* CANCEL */);
}

void LoadConnection::on_connected(http2::ClientConnection&) {
  ever_connected_ = true;
  listener_.on_capacity(*this);
}

void LoadConnection::on_capacity_changed(http2::ClientConnection&) {
  if (ready()) listener_.on_capacity(*this);
}

void LoadConnection::on_connection_closed(http2::ClientConnection& conn,
                                          const std::string& reason) {
  if (conn_.get() != &conn) return;  // an earlier connection, already replaced or shut down
  conn_.reset();
  if (shut_down_) return;
  if (!ever_connected_) listener_.on_connect_failed(*this, reason);
  spdlog::debug("connection lost ({}); reconnecting", reason);
  reconnect_timer_.expires_after(kReconnectPause);
  reconnect_timer_.async_wait([this](asio::error_code ec) {
    if (!ec && !shut_down_) connect();
  });
}

}  // namespace sluice::load
