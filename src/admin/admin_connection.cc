#include "admin/admin_connection.h"

#include <exception>
#include <utility>

#include <asio/write.hpp>

namespace sluice::admin {
namespace {
// Input read (and thrown away) while lingering before a close; past this, close at once.
constexpr size_t kMaxDrainBytes = 1024 * 1024;
}  // namespace

AdminConnection::AdminConnection(std::shared_ptr<AdminServerState> server,
                                 asio::ip::tcp::socket socket)
    : server_(std::move(server)), socket_(std::move(socket)), deadline_(socket_.get_executor()) {}

AdminConnection::~AdminConnection() { server_->connections.erase(this); }

void AdminConnection::start() {
  asio::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  arm_deadline(server_->limits.idle_timeout);
  read_request();
}

void AdminConnection::close() {
  if (closed_) return;
  closed_ = true;
  deadline_.cancel();
  asio::error_code ignored;
  socket_.close(ignored);
}

void AdminConnection::arm_deadline(std::chrono::steady_clock::duration timeout) {
  deadline_.expires_after(timeout);
  deadline_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    // A re-armed timer may complete its old wait without an error; only a real expiry counts.
    if (ec || self->closed_ || self->deadline_.expiry() > std::chrono::steady_clock::now()) return;
    self->close();
  });
}

void AdminConnection::read_request() {
  socket_.async_read_some(asio::buffer(read_buffer_),
                          [self = shared_from_this()](const asio::error_code& ec, size_t bytes) {
                            if (ec || self->closed_) {
                              self->close();
                              return;
                            }
                            self->on_parser_state(self->parser_.feed(
                                std::string_view(self->read_buffer_.data(), bytes)));
                          });
}

void AdminConnection::on_parser_state(HttpRequestParser::State state) {
  switch (state) {
    case HttpRequestParser::State::kNeedMore:
      read_request();
      return;
    case HttpRequestParser::State::kError:
      // After a malformed request the framing of anything that follows is unknown: close.
      respond(serialize(text_response(parser_.error_status(), parser_.error_message()),
                        /*keep_alive=*/false),
              /*keep_alive=*/false);
      return;
    case HttpRequestParser::State::kDone: {
      const HttpRequest& request = parser_.request();
      respond(serialize(dispatch(request), request.keep_alive), request.keep_alive);
      return;
    }
  }
}

HttpResponse AdminConnection::dispatch(const HttpRequest& request) {
  // Handlers belong to other modules; one that throws must not take the control thread down.
  try {
    return server_->router.dispatch(request);
  } catch (const std::exception& e) {
    return text_response(500, std::string("handler failed: ") + e.what());
  } catch (...) {
    return text_response(500, "handler failed");
  }
}

void AdminConnection::respond(std::string bytes, bool keep_alive) {
  write_buffer_ = std::move(bytes);
  arm_deadline(server_->limits.idle_timeout);  // a client that does not read cannot stall us
  asio::async_write(
      socket_, asio::buffer(write_buffer_),
      [self = shared_from_this(), keep_alive](const asio::error_code& ec, size_t) {
        if (ec || self->closed_) {
          self->close();
          return;
        }
        if (!keep_alive) {
          self->linger();
          return;
        }
        self->parser_.reset_keep_leftover();
        self->arm_deadline(self->server_->limits.idle_timeout);
        self->on_parser_state(self->parser_.feed({}));  // a pipelined request may be waiting
      });
}

void AdminConnection::linger() {
  asio::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  arm_deadline(server_->limits.linger_timeout);
  drain();
}

void AdminConnection::drain() {
  socket_.async_read_some(asio::buffer(read_buffer_),
                          [self = shared_from_this()](const asio::error_code& ec, size_t bytes) {
                            self->drained_bytes_ += bytes;
                            if (ec || self->closed_ || self->drained_bytes_ > kMaxDrainBytes) {
                              self->close();
                              return;
                            }
                            self->drain();
                          });
}

}  // namespace sluice::admin
