// One HTTP/2 connection of a load run to the target. Reconnects (after a short pause) when the
// connection is lost, so a proxy restarting mid-run costs the calls in flight, not the run.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "http2/client_connection.h"
#include "http2/header_block.h"
#include "load/load_call.h"

namespace sluice::load {

class LoadConnection final : public http2::ClientConnection::Owner {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // The connection may take another call now (connected, a stream ended, SETTINGS).
    virtual void on_capacity(LoadConnection& conn) = 0;
    // An attempt to connect failed before the connection ever worked.
    virtual void on_connect_failed(LoadConnection& conn, const std::string& reason) = 0;
  };

  LoadConnection(asio::io_context& io, asio::ip::tcp::endpoint target,
                 const http2::HeaderBlock& request_headers,
                 std::chrono::milliseconds connect_timeout, Listener& listener);
  ~LoadConnection() override;

  void connect();
  // Closes for good: no reconnect; calls in flight end as lost.
  void shut_down();
  bool ready() const;
  bool ever_connected() const { return ever_connected_; }
  // Starts `call` (already reset() onto this connection); false if the session refused it.
  bool start(LoadCall& call);
  void consume(int32_t stream_id, size_t n);
  void reset_stream(int32_t stream_id);

  void on_connected(http2::ClientConnection&) override;
  void on_capacity_changed(http2::ClientConnection&) override;
  void on_connection_closed(http2::ClientConnection&, const std::string& reason) override;

 private:
  asio::io_context& io_;
  asio::ip::tcp::endpoint target_;
  const http2::HeaderBlock& headers_;
  std::chrono::milliseconds connect_timeout_;
  Listener& listener_;
  std::shared_ptr<http2::ClientConnection> conn_;
  asio::steady_timer reconnect_timer_;
  bool shut_down_ = false;
  bool ever_connected_ = false;
};

}  // namespace sluice::load
