#include "http2/connection.h"

#include <spdlog/spdlog.h>

namespace sluice::http2 {
namespace {
// A write batch: large enough to fill a socket buffer, small enough to stay responsive.
constexpr size_t kMaxWriteBatch = 128 * 1024;
// Batches written per flush before other connections get a turn.
constexpr int kMaxBatchesPerFlush = 4;

FlowStats& unshared_flow_stats() {
  thread_local FlowStats stats;
  return stats;
}
}  // namespace

void log_callback_exception(const char* what, const char* message) noexcept {
  try {
    spdlog::error("exception in HTTP/2 callback {}: {}; failing the connection", what, message);
  } catch (...) {
  }
}

nghttp2_option* make_session_options(const SessionSettings& s) {
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_no_closed_streams(opt, 1);
  // Our own reset policing (ServerConnection) answers first, with ENHANCE_YOUR_CALM; nghttp2's
  // limiter (a GOAWAY INTERNAL_ERROR) stays armed behind it, twice as loose.
  nghttp2_option_set_stream_reset_rate_limit(opt, 2ull * s.reset_burst, 2ull * s.reset_rate);
  nghttp2_option_set_max_continuations(opt, s.max_continuations);
  return opt;
}

Connection::Connection(asio::ip::tcp::socket socket)
    : socket_(std::move(socket)),
      flow_stats_(&unshared_flow_stats()),
      keepalive_timer_(socket_.get_executor()) {}

Connection::~Connection() {
  if (session_ != nullptr) nghttp2_session_del(session_);
  // A connection dropped before it ever started still owes nothing to the shared stats.
  flow_stats_->unconsumed_bytes.fetch_sub(static_cast<int64_t>(unconsumed_),
                                          std::memory_order_relaxed);
  set_write_buffered(0);
}

void Connection::set_flow_stats(FlowStats* stats) {
  flow_stats_->unconsumed_bytes.fetch_sub(static_cast<int64_t>(unconsumed_),
                                          std::memory_order_relaxed);
  flow_stats_->write_buffered_bytes.fetch_sub(static_cast<int64_t>(write_buf_.size()),
                                              std::memory_order_relaxed);
  flow_stats_ = stats;
  flow_stats_->unconsumed_bytes.fetch_add(static_cast<int64_t>(unconsumed_),
                                          std::memory_order_relaxed);
  flow_stats_->write_buffered_bytes.fetch_add(static_cast<int64_t>(write_buf_.size()),
                                              std::memory_order_relaxed);
}

void Connection::note_received(size_t n) {
  if (closed_) return;  // the rest of a read after finish(): nothing is owed any more
  unconsumed_ += n;
  flow_stats_->unconsumed_bytes.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
}

void Connection::consume(int32_t stream_id, size_t n) {
  if (closed_) return;  // nothing is owed to a peer that is gone
  if (n > unconsumed_) {
    // A bookkeeping fault: giving back more than arrived would let the peer overrun our
    // buffers. Never do it; count it so tests and operators see it.
    flow_stats_->overconsumed_bytes.fetch_add(n - unconsumed_, std::memory_order_relaxed);
    spdlog::error("flow control: consuming {} bytes with only {} received (stream {})", n,
                  unconsumed_, stream_id);
    n = unconsumed_;
  }
  if (n == 0) return;
  unconsumed_ -= n;
  flow_stats_->unconsumed_bytes.fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed);
  // On a closed stream nghttp2 gives the bytes back to the connection window only.
  int rv = stream_id > 0 ? nghttp2_session_consume(session_, stream_id, n)
                         : nghttp2_session_consume_connection(session_, n);
  if (rv != 0) {
    // Not now: the caller (a call in the middle of a body read) must not be deleted under it.
    asio::post(socket_.get_executor(), [self = shared_from_this(), rv] {
      self->close(std::string("flow control: ") + nghttp2_strerror(rv));
    });
    return;
  }
  // nghttp2 queues a WINDOW_UPDATE only once half a window is consumed.
  if (nghttp2_session_want_write(session_) != 0) request_flush();
}

void Connection::set_write_buffered(size_t n) {
  flow_stats_->write_buffered_bytes.fetch_add(
      static_cast<int64_t>(n) - static_cast<int64_t>(write_buf_.size()), std::memory_order_relaxed);
}

void Connection::submit_settings(const SessionSettings& s, bool server) {
  std::vector<nghttp2_settings_entry> iv = {
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, s.stream_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, s.max_header_list_size},
      // Not SETTINGS_NO_RFC7540_PRIORITIES: nghttp2 then schedules by RFC 9218 urgency with
      // every stream non-incremental, i.e. strictly oldest first, and one long upload on a
      // shared upstream connection would hold back every other call's DATA. With closed
      // streams not kept, the RFC 7540 tree holds only open streams (all equal weight).
  };
  if (server) {
    iv.push_back({NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s.max_concurrent_streams});
  } else {
    iv.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
  }
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv.data(), iv.size());
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(s.connection_window));
}

void Connection::start_io() {
  io_started_ = true;
  asio::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
  do_read();
  flush();
}

void Connection::request_flush() {
  if (flush_posted_ || writing_ || closed_ || !io_started_) return;
  flush_posted_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->flush_posted_ = false;
    self->flush();
  });
}

void Connection::do_read() {
  // Wait for readability, then read into a per-thread buffer: an idle connection holds no read
  // buffer of its own (nghttp2 copies whatever it keeps), which is most of its memory.
  socket_.async_wait(asio::socket_base::wait_read,
                     [self = shared_from_this()](asio::error_code ec) {
                       if (self->closed_) return;
                       if (ec) {
                         self->finish(ec.message());
                         return;
                       }
                       self->read_available();
                     });
}

void Connection::read_available() {
  thread_local std::array<uint8_t, 65536> buf;
  for (int rounds = 0; rounds < 4; ++rounds) {  // bounded: other connections get a turn
    asio::error_code ec;
    size_t n = socket_.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      finish(ec == asio::error::eof ? "peer closed the connection" : ec.message());
      return;
    }
    // Closing (a GOAWAY is on its way out): what the peer still sends is dropped unread, so
    // a client that went over a limit opens nothing more while its GOAWAY waits to be written.
    if (!close_after_write_.empty()) continue;
    ssize_t rv = nghttp2_session_mem_recv(session_, buf.data(), n);
    if (rv < 0) {
      if (rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS) {
        // A flood nghttp2 caught itself (CONTINUATION frames, unanswered PINGs/SETTINGS): the
        // session is beyond use, so the GOAWAY goes out by hand.
        on_flood(static_cast<int>(rv));
        send_calm_goaway_raw(rv == NGHTTP2_ERR_FLOODED ? "flood" : "too_many_continuations");
      } else {
        // nghttp2 queued a GOAWAY for protocol errors (or a callback did, e.g. a client over
        // an abuse limit); try to send it before closing.
        flush();
      }
      finish(!close_after_write_.empty()
                 ? close_after_write_
                 : std::string("HTTP/2 error: ") + nghttp2_strerror(static_cast<int>(rv)));
      return;
    }
    if (closed_ || n < buf.size()) break;
  }
  flush();
  if (!closed_) do_read();
}

void Connection::flush() {
  if (writing_ || closed_) return;
  // Gather what the session has into a per-thread batch and write it at once; only what the
  // socket does not take is copied into write_buf_, so a connection that keeps up holds no
  // write buffer at all.
  thread_local std::vector<uint8_t> batch;
  for (int round = 0; round < kMaxBatchesPerFlush; ++round) {
    batch.clear();
    while (batch.size() < kMaxWriteBatch) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        finish(std::string("HTTP/2 send error: ") + nghttp2_strerror(static_cast<int>(n)));
        return;
      }
      if (n == 0) break;
      batch.insert(batch.end(), data, data + n);
    }
    if (batch.empty()) {
      if (!close_after_write_.empty()) {
        finish(close_after_write_);
      } else if (nghttp2_session_want_read(session_) == 0 &&
                 nghttp2_session_want_write(session_) == 0) {
        finish("session finished");
      }
      return;
    }
    if (!write_now(batch.data(), batch.size()) || writing_) return;
    if (batch.size() < kMaxWriteBatch) return;  // the session had no more
  }
  request_flush();  // more to send: after the other connections had their turn
}

bool Connection::write_now(const uint8_t* data, size_t size) {
  asio::error_code ec;
  size_t written = socket_.write_some(asio::buffer(data, size), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    written = 0;
  } else if (ec) {
    finish(ec.message());
    return false;
  }
  if (written < size) {
    set_write_buffered(size - written);
    write_buf_.assign(data + written, data + size);
    wait_writable();
  }
  return true;
}

void Connection::wait_writable() {
  writing_ = true;
  socket_.async_wait(asio::socket_base::wait_write,
                     [self = shared_from_this()](asio::error_code ec) {
                       self->writing_ = false;
                       if (self->closed_) return;
                       if (ec) {
                         self->finish(ec.message());
                         return;
                       }
                       asio::error_code wec;
                       auto& buf = self->write_buf_;
                       size_t n = self->socket_.write_some(asio::buffer(buf), wec);
                       if (wec == asio::error::would_block || wec == asio::error::try_again) {
                         n = 0;
                       } else if (wec) {
                         self->finish(wec.message());
                         return;
                       }
                       self->set_write_buffered(buf.size() - n);
                       buf.erase(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(n));
                       if (!buf.empty()) {
                         self->wait_writable();
                         return;
                       }
                       std::vector<uint8_t>().swap(buf);  // idle connections keep no buffer
                       self->flush();
                     });
}

void Connection::send_calm_goaway_raw(std::string_view debug) {
  if (writing_ || !write_buf_.empty()) return;  // mid-frame: nothing can be added safely
  const uint32_t last = static_cast<uint32_t>(nghttp2_session_get_last_proc_stream_id(session_));
  const uint32_t length = 8 + static_cast<uint32_t>(debug.size());
  std::vector<uint8_t> frame = {static_cast<uint8_t>(length >> 16),
                                static_cast<uint8_t>(length >> 8),
                                static_cast<uint8_t>(length),
                                NGHTTP2_GOAWAY,
                                0,
                                0,
                                0,
                                0,
                                0,  // stream 0
                                static_cast<uint8_t>(last >> 24),
                                static_cast<uint8_t>(last >> 16),
                                static_cast<uint8_t>(last >> 8),
                                static_cast<uint8_t>(last),
                                0,
                                0,
                                0,
                                NGHTTP2_ENHANCE_YOUR_CALM};
  frame.insert(frame.end(), debug.begin(), debug.end());
  asio::error_code ec;
  socket_.write_some(asio::buffer(frame), ec);  // best effort: the connection closes next
}

void Connection::close(std::string reason) { finish(std::move(reason)); }

void Connection::set_keepalive(std::chrono::milliseconds time, std::chrono::milliseconds timeout) {
  keepalive_time_ = time;
  keepalive_timeout_ = timeout;
  frames_at_last_check_ = frames_received_;
  arm_keepalive();
}

void Connection::arm_keepalive() {
  if (keepalive_time_.count() == 0 || closed_) return;
  keepalive_timer_.expires_after(ping_outstanding_ ? keepalive_timeout_ : keepalive_time_);
  keepalive_timer_.async_wait([self = shared_from_this()](asio::error_code ec) {
    if (ec || self->closed_) return;
    const bool quiet = self->frames_received_ == self->frames_at_last_check_;
    self->frames_at_last_check_ = self->frames_received_;
    if (self->ping_outstanding_) {
      if (quiet) {
        self->finish("keepalive: no answer within " +
                     std::to_string(self->keepalive_timeout_.count()) + " ms");
        return;
      }
      self->ping_outstanding_ = false;  // something arrived: alive
    } else if (quiet && self->keepalive_wanted()) {
      nghttp2_submit_ping(self->session_, NGHTTP2_FLAG_NONE, nullptr);
      self->ping_outstanding_ = true;
      self->request_flush();
    }
    self->arm_keepalive();
  });
}

void Connection::close_after_write(std::string reason) {
  if (closed_ || !close_after_write_.empty()) return;
  close_after_write_ = std::move(reason);
  // A peer that does not read would keep the connection open for ever: a second at most.
  keepalive_time_ = std::chrono::milliseconds(0);
  keepalive_timer_.expires_after(std::chrono::seconds(1));
  keepalive_timer_.async_wait([self = shared_from_this()](asio::error_code ec) {
    if (!ec) self->finish(self->close_after_write_ + " (the peer did not read it within 1 s)");
  });
  request_flush();
}

void Connection::finish(std::string reason) {
  if (closed_) return;
  closed_ = true;
  keepalive_timer_.cancel();
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  // Nothing is owed to a peer that is gone: take this connection out of the shared figures.
  flow_stats_->unconsumed_bytes.fetch_sub(static_cast<int64_t>(unconsumed_),
                                          std::memory_order_relaxed);
  unconsumed_ = 0;
  set_write_buffered(0);
  std::vector<uint8_t>().swap(write_buf_);
  on_closed(reason);
}

}  // namespace sluice::http2
