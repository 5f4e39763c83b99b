// One HTTP/2 connection: a TCP socket driven by asio and an nghttp2 session. Reads feed the
// session; frames the session wants to send are written in batches, one write in flight at a
// time, so a peer that does not read stops us from producing more. Subclasses own the session's
// callbacks (server or client side).
#pragma once

#include <nghttp2/nghttp2.h>

#include <array>
#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http2/flow_stats.h"

namespace sluice::http2 {

// Settings we advertise and the flow-control windows we open (see config::Http2).
struct SessionSettings {
  uint32_t stream_window = 1u << 20;
  uint32_t connection_window = 16u << 20;
  uint32_t max_concurrent_streams = 1000;
  uint32_t max_header_list_size = 16384;
  // gRFC A8 ping policing (server side): a PING sooner than this after the previous one, with
  // no HEADERS or DATA sent in between, is a strike; more than max_ping_strikes strikes and
  // the client gets GOAWAY ENHANCE_YOUR_CALM "too_many_pings".
  std::chrono::milliseconds min_ping_interval{10000};
  uint32_t max_ping_strikes = 2;
  // Abuse limits (server side): stream resets by the client (CVE-2023-44487, rapid reset),
  // SETTINGS frames and empty DATA frames, each a token bucket of `burst` refilled at `rate`
  // per second; over it, GOAWAY ENHANCE_YOUR_CALM. CONTINUATION frames per header block.
  uint32_t reset_burst = 1000;
  uint32_t reset_rate = 100;
  uint32_t control_frame_burst = 1000;
  uint32_t control_frame_rate = 100;
  uint32_t max_continuations = 8;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::ip::tcp::socket socket);
  virtual ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Schedules sending whatever the session has queued (safe inside nghttp2 callbacks).
  void request_flush();
  // Closes the socket at once; on_closed() follows.
  void close(std::string reason);
  // Closes once everything queued (a GOAWAY, say) has been written.
  void close_after_write(std::string reason);
  // Dead-peer detection: after `time` without a frame from the peer (and while
  // keepalive_wanted()), send a PING; if nothing at all arrives within `timeout`, close.
  void set_keepalive(std::chrono::milliseconds time, std::chrono::milliseconds timeout);
  // nghttp2 callback plumbing: any frame from the peer proves it alive.
  void on_frame_received() { ++frames_received_; }
  bool closed() const { return closed_; }
  nghttp2_session* session() const { return session_; }
  // Where this connection reports its flow-control bookkeeping (default: nowhere shared).
  void set_flow_stats(FlowStats* stats);
  // DATA payload handed to us by the session (nghttp2 consumes padding and ignored DATA itself).
  void note_received(size_t n);
  // Gives `n` received bytes back to the peer: to the stream's window and the connection's
  // (only the connection's if the stream is closed). Never more than was received.
  void consume(int32_t stream_id, size_t n);
  // Bytes received and not yet consumed on this connection.
  uint64_t unconsumed() const { return unconsumed_; }
  asio::any_io_executor executor() { return socket_.get_executor(); }

 protected:
  // Starts reading and sends the connection preface/SETTINGS.
  void start_io();
  // Called once, when the connection is gone (socket error, EOF, protocol error, close()).
  virtual void on_closed(const std::string& reason) = 0;
  // nghttp2 found a flood (NGHTTP2_ERR_FLOODED, NGHTTP2_ERR_TOO_MANY_CONTINUATIONS); the
  // connection closes after this.
  virtual void on_flood(int /*nghttp2_error*/) {}
  // Writes GOAWAY ENHANCE_YOUR_CALM straight to the socket, past the session.
  void send_calm_goaway_raw(std::string_view debug);
  // Whether an idle peer should be pinged now (the client side pings only with calls in flight).
  virtual bool keepalive_wanted() const { return true; }
  // Submits SETTINGS and opens the connection window; call after creating session_.
  void submit_settings(const SessionSettings& s, bool server);

  nghttp2_session* session_ = nullptr;
  asio::ip::tcp::socket socket_;

 private:
  void do_read();
  void read_available();
  void flush();
  // Writes what it can of `data` now; the rest waits in write_buf_ for the socket. False if the
  // connection failed.
  bool write_now(const uint8_t* data, size_t size);
  void wait_writable();
  void set_write_buffered(size_t n);
  void arm_keepalive();
  void finish(std::string reason);

  // Bytes the socket did not take yet; empty (and unallocated) while writes keep up.
  std::vector<uint8_t> write_buf_;
  FlowStats* flow_stats_;
  uint64_t unconsumed_ = 0;
  bool writing_ = false;
  bool flush_posted_ = false;
  bool closed_ = false;
  bool io_started_ = false;
  std::string close_after_write_;  // reason, when a close is pending
  asio::steady_timer keepalive_timer_;
  std::chrono::milliseconds keepalive_time_{0};
  std::chrono::milliseconds keepalive_timeout_{0};
  uint64_t frames_received_ = 0;
  uint64_t frames_at_last_check_ = 0;
  bool ping_outstanding_ = false;
};

// Creates nghttp2 options shared by both sides: we open windows ourselves, only after the
// bytes moved on (coupled flow control), so automatic WINDOW_UPDATE is off; closed streams are
// not kept (no RFC 7540 priority tree: a used connection stays as small as a fresh one); the
// abuse limits of `s` are set.
nghttp2_option* make_session_options(const SessionSettings& s);

void log_callback_exception(const char* what, const char* message) noexcept;

// Runs an nghttp2 callback body: no C++ exception may unwind through nghttp2's C frames, so one
// becomes NGHTTP2_ERR_CALLBACK_FAILURE (the session then fails the connection), logged.
template <typename F>
auto guarded(const char* what, F&& body) noexcept -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    log_callback_exception(what, e.what());
  } catch (...) {
    log_callback_exception(what, "unknown exception");
  }
  return NGHTTP2_ERR_CALLBACK_FAILURE;
}

}  // namespace sluice::http2
