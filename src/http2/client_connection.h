// The upstream side: an HTTP/2 client connection from the proxy to one backend.
#pragma once

#include <asio/steady_timer.hpp>
#include <chrono>
#include <string>
#include <unordered_map>

#include "base/expected.h"
#include "http2/connection.h"
#include "http2/stream.h"

namespace sluice::http2 {

class ClientConnection final : public Connection {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    virtual void on_connected(ClientConnection& conn) = 0;
    // A stream slot may have opened (a stream closed, SETTINGS raised the limit) or the
    // connection stopped taking streams (GOAWAY): the pool re-evaluates.
    virtual void on_capacity_changed(ClientConnection& conn) = 0;
    // The backend sent GOAWAY (on_capacity_changed follows).
    virtual void on_goaway_received(ClientConnection& /*conn*/) {}
    // The connection is gone; its streams were told before this.
    virtual void on_connection_closed(ClientConnection& conn, const std::string& reason) = 0;
  };

  static std::shared_ptr<ClientConnection> create(asio::any_io_executor executor,
                                                  const SessionSettings& settings, Owner& owner);
  void connect(const asio::ip::tcp::endpoint& endpoint, std::chrono::milliseconds timeout);

  // Starts a request; the stream gets events until on_upstream_closed. Returns the stream id.
  Expected<int32_t, std::string> submit_request(const HeaderBlock& headers, bool has_body,
                                                ClientStream* stream);
  void resume_request(int32_t stream_id);
  void reset_stream(int32_t stream_id, uint32_t error_code);
  // The stream's owner is gone: no more events for it (reset it first if still open). The owner
  // consumes what it received and did not pass on (Connection::consume).
  void detach(int32_t stream_id);

  bool connected() const { return connected_; }
  // Still takes new streams: not closed, no GOAWAY received, not retired by age.
  bool accepting() const { return !closed() && !goaway_received_ && !retired_; }
  // Takes no new streams after `age`; closes once its last stream is done.
  void set_max_age(std::chrono::milliseconds age);

  size_t active_streams() const { return streams_.size(); }
  bool settings_received() const { return settings_received_; }
  // The backend's SETTINGS_MAX_CONCURRENT_STREAMS; `assumed` until its SETTINGS arrive.
  uint32_t stream_limit(uint32_t assumed) const;
  bool has_free_slot(uint32_t assumed) const {
    return accepting() && active_streams() < stream_limit(assumed);
  }

  // nghttp2 callback plumbing.
  ClientStream* stream(int32_t stream_id);
  void mark_sent(int32_t stream_id);
  void end_stream(int32_t stream_id, uint32_t error_code);
  void on_settings() {
    settings_received_ = true;
    owner_.on_capacity_changed(*this);
  }
  void on_goaway() {
    goaway_received_ = true;
    owner_.on_goaway_received(*this);
    owner_.on_capacity_changed(*this);
  }

  ClientConnection(asio::any_io_executor executor, Owner& owner);

 private:
  struct Entry {
    ClientStream* stream;
    bool headers_sent = false;
  };
  void on_closed(const std::string& reason) override;

  Owner& owner_;
  std::unordered_map<int32_t, Entry> streams_;
  bool keepalive_wanted() const override { return !streams_.empty(); }
  void close_if_retired_and_idle();

  asio::steady_timer connect_timer_;
  asio::steady_timer age_timer_;
  bool retired_ = false;
  bool connected_ = false;
  bool settings_received_ = false;
  bool goaway_received_ = false;
};

}  // namespace sluice::http2
