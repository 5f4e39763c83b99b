#include "http2/connection.h"

#include <spdlog/spdlog.h>

namespace sluice::http2 {
namespace {
// A write batch: large enough to fill a socket buffer, small enough to stay responsive.
constexpr size_t kMaxWriteBatch = 128 * 1024;
}  // namespace

nghttp2_option* make_session_options() {
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  return opt;
}

Connection::Connection(asio::ip::tcp::socket socket)
    : socket_(std::move(socket)), keepalive_timer_(socket_.get_executor()) {}

Connection::~Connection() {
  if (session_ != nullptr) nghttp2_session_del(session_);
}

void Connection::submit_settings(const SessionSettings& s, bool server) {
  std::vector<nghttp2_settings_entry> iv = {
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, s.stream_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, s.max_header_list_size},
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
    ssize_t rv = nghttp2_session_mem_recv(session_, buf.data(), n);
    if (rv < 0) {
      // nghttp2 queued a GOAWAY for protocol errors; try to send it before closing.
      flush();
      finish(std::string("HTTP/2 error: ") + nghttp2_strerror(static_cast<int>(rv)));
      return;
    }
    if (closed_ || n < buf.size()) break;
  }
  flush();
  if (!closed_) do_read();
}

void Connection::flush() {
  if (writing_ || closed_) return;
  while (write_buf_.size() < kMaxWriteBatch) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      finish(std::string("HTTP/2 send error: ") + nghttp2_strerror(static_cast<int>(n)));
      return;
    }
    if (n == 0) break;
    write_buf_.insert(write_buf_.end(), data, data + n);
  }
  if (write_buf_.empty()) {
    if (!close_after_write_.empty()) {
      finish(close_after_write_);
      return;
    }
    if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0) {
      finish("session finished");
    }
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(write_buf_),
                    [self = shared_from_this()](asio::error_code ec, size_t) {
                      self->writing_ = false;
                      self->write_buf_.clear();
                      if (self->closed_) return;
                      if (ec) {
                        self->finish(ec.message());
                        return;
                      }
                      self->flush();
                    });
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
  close_after_write_ = std::move(reason);
  request_flush();
}

void Connection::finish(std::string reason) {
  if (closed_) return;
  closed_ = true;
  keepalive_timer_.cancel();
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  on_closed(reason);
}

}  // namespace sluice::http2
