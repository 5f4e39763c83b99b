// The downstream side: an HTTP/2 server connection accepted from a client.
#pragma once

#include <asio/steady_timer.hpp>
#include <chrono>
#include <unordered_map>

#include "base/rate_limit.h"
#include "http2/connection.h"
#include "http2/stream.h"

namespace sluice::http2 {

class ServerConnection final : public Connection {
 public:
  // What a client may not do too often (SessionSettings has the limits).
  enum class Abuse { kReset, kSettings, kEmptyData, kContinuations, kFlood };

  class Owner {
   public:
    virtual ~Owner() = default;
    // A new request stream; the returned stream receives its events until on_downstream_closed.
    virtual ServerStream* new_stream(ServerConnection& conn, int32_t stream_id) = 0;
    virtual void on_connection_closed(ServerConnection& conn) = 0;
    // The client went over an abuse limit and got GOAWAY ENHANCE_YOUR_CALM.
    virtual void on_abuse(ServerConnection&, Abuse) {}
  };

  static std::shared_ptr<ServerConnection> create(asio::ip::tcp::socket socket,
                                                  const SessionSettings& settings, Owner& owner);
  void start() { start_io(); }

  // Response headers; with has_body false they end the stream (a Trailers-Only response).
  int submit_response(int32_t stream_id, const HeaderBlock& headers, bool has_body);
  // Only from inside ServerStream::read_response_body, as nghttp2 prescribes for trailers.
  int submit_trailers(int32_t stream_id, const HeaderBlock& trailers);
  void resume_response(int32_t stream_id);
  void reset_stream(int32_t stream_id, uint32_t error_code);
  // Graceful shutdown (gRFC A9): GOAWAY with the maximum stream id, a PING round trip, then
  // GOAWAY with the last stream id actually processed; open streams finish.
  void begin_shutdown();
  // Max connection age: begin_shutdown() after `age`, then close after `grace` (0 = never).
  void set_max_age(std::chrono::milliseconds age, std::chrono::milliseconds grace);
  // Graceful shutdown once the connection has had no open stream for `timeout`.
  void set_idle_timeout(std::chrono::milliseconds timeout);
  size_t open_streams() const { return streams_.size(); }
  size_t max_header_list_size() const { return max_header_list_size_; }

  // nghttp2 callback plumbing (called from the anonymous-namespace callbacks only).
  ServerStream* begin_stream(int32_t stream_id);
  void end_stream(int32_t stream_id, ServerStream* stream, uint32_t error_code);
  void on_ping_ack();
  void on_ping();
  // Counts one abusable frame; over its budget: GOAWAY ENHANCE_YOUR_CALM, the connection
  // closes, and false (the callback then stops the session at once).
  bool police(Abuse kind);
  void on_response_frame_sent() {
    sent_since_ping_ = true;
    ping_strikes_ = 0;
  }

  ServerConnection(asio::ip::tcp::socket socket, const SessionSettings& settings, Owner& owner);

 private:
  void on_closed(const std::string& reason) override;
  void on_flood(int nghttp2_error) override;
  void send_final_goaway();
  void arm_idle_timer();

  Owner& owner_;
  std::unordered_map<int32_t, ServerStream*> streams_;
  asio::steady_timer shutdown_timer_;
  asio::steady_timer age_timer_;
  asio::steady_timer idle_timer_;
  std::chrono::milliseconds idle_timeout_{0};
  size_t max_header_list_size_;
  std::chrono::milliseconds min_ping_interval_;
  uint32_t max_ping_strikes_;
  std::chrono::steady_clock::time_point last_ping_{};
  uint32_t ping_strikes_ = 0;
  bool sent_since_ping_ = true;
  TokenBucket reset_budget_;
  TokenBucket control_frame_budget_;
  bool calmed_ = false;
  bool shutdown_started_ = false;
  bool final_goaway_sent_ = false;
};

}  // namespace sluice::http2
