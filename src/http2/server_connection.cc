#include "http2/server_connection.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>

#include "http2/nv.h"

namespace sluice::http2 {
namespace {

ServerConnection& conn_of(void* user_data) { return *static_cast<ServerConnection*>(user_data); }

ServerStream* stream_of(nghttp2_session* session, int32_t stream_id) {
  return static_cast<ServerStream*>(nghttp2_session_get_stream_user_data(session, stream_id));
}

int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  return guarded("begin_headers", [&] {
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      conn_of(user_data).begin_stream(frame->hd.stream_id);
    }
    return 0;
  });
}

int on_header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
              size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user_data) {
  return guarded("header", [&] {
    // Request trailers carry nothing gRPC uses; only the request headers are kept.
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    if (ServerStream* s = stream_of(session, frame->hd.stream_id)) {
      if (!s->count_header(namelen, valuelen, conn_of(user_data).max_header_list_size())) return 0;
      s->incoming_headers().add({reinterpret_cast<const char*>(name), namelen},
                                {reinterpret_cast<const char*>(value), valuelen});
    }
    return 0;
  });
}

int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
  return guarded("frame_recv", [&]() -> int {
    ServerConnection& conn = conn_of(user_data);
    conn.on_frame_received();
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        ServerStream* s = stream_of(session, frame->hd.stream_id);
        if (s == nullptr) return 0;
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
          s->on_request_headers(end_stream);
        } else if (end_stream) {
          s->on_request_end();
        }
        return 0;
      }
      case NGHTTP2_DATA:
        if (frame->hd.length == 0 && !end_stream &&
            !conn.police(ServerConnection::Abuse::kEmptyData)) {
          return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        if (end_stream) {
          if (ServerStream* s = stream_of(session, frame->hd.stream_id)) s->on_request_end();
        }
        return 0;
      case NGHTTP2_RST_STREAM: {
        // Only resets before any answer count (the rapid-reset pattern): cancelling a call
        // that is being answered is ordinary.
        ServerStream* s = stream_of(session, frame->hd.stream_id);
        if ((s == nullptr || !s->response_started()) &&
            !conn.police(ServerConnection::Abuse::kReset)) {
          return NGHTTP2_ERR_CALLBACK_FAILURE;  // not one more frame of this client's
        }
        return 0;
      }
      case NGHTTP2_SETTINGS:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0 &&
            !conn.police(ServerConnection::Abuse::kSettings)) {
          return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        return 0;
      case NGHTTP2_PING:
        if (frame->hd.flags & NGHTTP2_FLAG_ACK) {
          conn.on_ping_ack();
        } else {
          conn.on_ping();
        }
        return 0;
      default:
        return 0;
    }
  });
}

int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  if (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) {
    conn_of(user_data).on_response_frame_sent();
  }
  return 0;
}

int on_data_chunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                  size_t len, void* user_data) {
  return guarded("data_chunk", [&] {
    ServerConnection& conn = conn_of(user_data);
    conn.note_received(len);
    if (ServerStream* s = stream_of(session, stream_id)) {
      s->on_request_data(data, len);
    } else {
      conn.consume(stream_id, len);  // a stream we already let go of
    }
    return 0;
  });
}

int on_stream_close(nghttp2_session* session, int32_t stream_id, uint32_t error_code,
                    void* user_data) {
  return guarded("stream_close", [&] {
    conn_of(user_data).end_stream(stream_id, stream_of(session, stream_id), error_code);
    return 0;
  });
}

ssize_t read_body(nghttp2_session* session, int32_t stream_id, uint8_t* buf, size_t length,
                  uint32_t* flags, nghttp2_data_source*, void*) {
  return guarded("read_body", [&]() -> ssize_t {
    ServerStream* s = stream_of(session, stream_id);
    if (s == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    return to_data_source_result(s->read_response_body(buf, length), flags);
  });
}

nghttp2_session_callbacks* server_callbacks() {
  static nghttp2_session_callbacks* callbacks = [] {
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    return cb;
  }();
  return callbacks;
}

}  // namespace

ServerConnection::ServerConnection(asio::ip::tcp::socket socket, const SessionSettings& settings,
                                   Owner& owner)
    : Connection(std::move(socket)),
      owner_(owner),
      shutdown_timer_(socket_.get_executor()),
      age_timer_(socket_.get_executor()),
      idle_timer_(socket_.get_executor()),
      max_header_list_size_(settings.max_header_list_size),
      min_ping_interval_(settings.min_ping_interval),
      max_ping_strikes_(settings.max_ping_strikes),
      reset_budget_(settings.reset_burst, settings.reset_rate),
      control_frame_budget_(settings.control_frame_burst, settings.control_frame_rate) {}

std::shared_ptr<ServerConnection> ServerConnection::create(asio::ip::tcp::socket socket,
                                                           const SessionSettings& settings,
                                                           Owner& owner) {
  auto conn = std::make_shared<ServerConnection>(std::move(socket), settings, owner);
  nghttp2_option* opt = make_session_options(settings);
  nghttp2_session_server_new2(&conn->session_, server_callbacks(), conn.get(), opt);
  nghttp2_option_del(opt);
  conn->submit_settings(settings, /*server=*/true);
  return conn;
}

ServerStream* ServerConnection::begin_stream(int32_t stream_id) {
  ServerStream* s = owner_.new_stream(*this, stream_id);
  nghttp2_session_set_stream_user_data(session_, stream_id, s);
  if (streams_.empty() && idle_timeout_.count() > 0) idle_timer_.cancel();
  streams_.emplace(stream_id, s);
  return s;
}

void ServerConnection::end_stream(int32_t stream_id, ServerStream* stream, uint32_t error_code) {
  if (stream == nullptr) return;
  streams_.erase(stream_id);
  nghttp2_session_set_stream_user_data(session_, stream_id, nullptr);
  stream->on_downstream_closed(error_code);
  if (streams_.empty()) arm_idle_timer();
}

int ServerConnection::submit_response(int32_t stream_id, const HeaderBlock& headers,
                                      bool has_body) {
  auto nv = to_nv(headers);
  nghttp2_data_provider provider{};
  provider.read_callback = read_body;
  int rv = nghttp2_submit_response(session_, stream_id, nv.data(), nv.size(),
                                   has_body ? &provider : nullptr);
  request_flush();
  return rv;
}

int ServerConnection::submit_trailers(int32_t stream_id, const HeaderBlock& trailers) {
  auto nv = to_nv(trailers);
  return nghttp2_submit_trailer(session_, stream_id, nv.data(), nv.size());
}

void ServerConnection::resume_response(int32_t stream_id) {
  if (closed()) return;
  nghttp2_session_resume_data(session_, stream_id);
  request_flush();
}

void ServerConnection::reset_stream(int32_t stream_id, uint32_t error_code) {
  if (closed()) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, error_code);
  request_flush();
}

void ServerConnection::begin_shutdown() {
  if (closed() || shutdown_started_) return;
  shutdown_started_ = true;
  nghttp2_submit_shutdown_notice(session_);
  nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr);
  // A client that never answers the PING still gets the final GOAWAY.
  shutdown_timer_.expires_after(std::chrono::seconds(1));
  shutdown_timer_.async_wait(
      [self = std::static_pointer_cast<ServerConnection>(shared_from_this())](asio::error_code ec) {
        if (!ec) self->send_final_goaway();
      });
  request_flush();
}

void ServerConnection::set_max_age(std::chrono::milliseconds age, std::chrono::milliseconds grace) {
  auto self = std::static_pointer_cast<ServerConnection>(shared_from_this());
  age_timer_.expires_after(age);
  age_timer_.async_wait([self, grace](asio::error_code ec) {
    if (ec || self->closed()) return;
    self->begin_shutdown();
    if (grace.count() == 0) return;
    self->age_timer_.expires_after(grace);
    self->age_timer_.async_wait([self](asio::error_code ec2) {
      if (!ec2) self->close("max connection age grace expired");
    });
  });
}

void ServerConnection::set_idle_timeout(std::chrono::milliseconds timeout) {
  idle_timeout_ = timeout;
  arm_idle_timer();
}

void ServerConnection::arm_idle_timer() {
  if (idle_timeout_.count() == 0 || closed() || shutdown_started_) return;
  idle_timer_.expires_after(idle_timeout_);
  idle_timer_.async_wait(
      [self = std::static_pointer_cast<ServerConnection>(shared_from_this())](asio::error_code ec) {
        if (!ec && self->streams_.empty()) self->begin_shutdown();
      });
}

void ServerConnection::on_ping() {
  const auto now = std::chrono::steady_clock::now();
  if (!sent_since_ping_ && now - last_ping_ < min_ping_interval_ &&
      ++ping_strikes_ > max_ping_strikes_) {
    static constexpr char kDebug[] = "too_many_pings";
    nghttp2_submit_goaway(
        session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
        NGHTTP2_ENHANCE_YOUR_CALM, reinterpret_cast<const uint8_t*>(kDebug), sizeof kDebug - 1);
    close_after_write("too many pings");
    return;
  }
  last_ping_ = now;
  sent_since_ping_ = false;
}

bool ServerConnection::police(Abuse kind) {
  if (calmed_) return false;
  const auto now = std::chrono::steady_clock::now();
  TokenBucket& budget = kind == Abuse::kReset ? reset_budget_ : control_frame_budget_;
  if (budget.take(now)) return true;
  calmed_ = true;
  static constexpr const char* kDebug[] = {"too_many_resets", "too_many_settings",
                                           "too_many_empty_data_frames"};
  const char* debug = kDebug[static_cast<int>(kind)];
  spdlog::warn("downstream connection: {}; GOAWAY ENHANCE_YOUR_CALM", debug);
  // Then the connection closes: its open calls are cancelled upstream.
  nghttp2_submit_goaway(
      session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
      NGHTTP2_ENHANCE_YOUR_CALM, reinterpret_cast<const uint8_t*>(debug), std::strlen(debug));
  owner_.on_abuse(*this, kind);
  close_after_write(debug);
  return false;
}

void ServerConnection::on_flood(int nghttp2_error) {
  if (calmed_) return;  // already told (and counted) by police()
  calmed_ = true;
  spdlog::warn("downstream connection: {}; GOAWAY ENHANCE_YOUR_CALM",
               nghttp2_strerror(nghttp2_error));
  owner_.on_abuse(*this, nghttp2_error == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS ? Abuse::kContinuations
                                                                             : Abuse::kFlood);
}

void ServerConnection::on_ping_ack() {
  if (shutdown_started_) send_final_goaway();
}

void ServerConnection::send_final_goaway() {
  if (closed() || final_goaway_sent_) return;
  final_goaway_sent_ = true;
  shutdown_timer_.cancel();
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  request_flush();
}

void ServerConnection::on_closed(const std::string& reason) {
  shutdown_timer_.cancel();
  age_timer_.cancel();
  idle_timer_.cancel();
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, stream] : streams) {
    nghttp2_session_set_stream_user_data(session_, id, nullptr);
    stream->on_downstream_closed(NGHTTP2_CANCEL);
  }
  owner_.on_connection_closed(*this);
}

}  // namespace sluice::http2
