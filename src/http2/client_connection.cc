#include "http2/client_connection.h"

#include <spdlog/spdlog.h>

#include "http2/nv.h"

namespace sluice::http2 {
namespace {

ClientConnection& conn_of(void* user_data) { return *static_cast<ClientConnection*>(user_data); }

int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
              const uint8_t* value, size_t valuelen, uint8_t, void* user_data) {
  return guarded("header", [&] {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    if (ClientStream* s = conn_of(user_data).stream(frame->hd.stream_id)) {
      s->incoming_response_headers().add({reinterpret_cast<const char*>(name), namelen},
                                         {reinterpret_cast<const char*>(value), valuelen});
    }
    return 0;
  });
}

int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  return guarded("frame_recv", [&] {
    ClientConnection& conn = conn_of(user_data);
    conn.on_frame_received();
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
        if (ClientStream* s = conn.stream(frame->hd.stream_id)) {
          if (frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
            s->on_response_headers(end_stream);
          } else {
            s->on_response_trailers();
          }
        }
        return 0;
      case NGHTTP2_DATA:
        if (end_stream) {
          if (ClientStream* s = conn.stream(frame->hd.stream_id)) s->on_response_end();
        }
        return 0;
      case NGHTTP2_SETTINGS:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) conn.on_settings();
        return 0;
      case NGHTTP2_GOAWAY:
        conn.on_goaway();
        return 0;
      default:
        return 0;
    }
  });
}

int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  return guarded("frame_send", [&] {
    if (frame->hd.type == NGHTTP2_HEADERS) conn_of(user_data).mark_sent(frame->hd.stream_id);
    return 0;
  });
}

int on_data_chunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
                  void* user_data) {
  return guarded("data_chunk", [&] {
    ClientConnection& conn = conn_of(user_data);
    conn.note_received(len);
    if (ClientStream* s = conn.stream(stream_id)) {
      s->on_response_data(data, len);
    } else {
      conn.consume(stream_id, len);  // a stream we already let go of
    }
    return 0;
  });
}

int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user_data) {
  return guarded("stream_close", [&] {
    conn_of(user_data).end_stream(stream_id, error_code);
    return 0;
  });
}

ssize_t read_body(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length, uint32_t* flags,
                  nghttp2_data_source*, void* user_data) {
  return guarded("read_body", [&]() -> ssize_t {
    ClientStream* s = conn_of(user_data).stream(stream_id);
    if (s == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    return to_data_source_result(s->read_request_body(buf, length), flags);
  });
}

nghttp2_session_callbacks* client_callbacks() {
  static nghttp2_session_callbacks* callbacks = [] {
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
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

ClientConnection::ClientConnection(asio::any_io_executor executor, Owner& owner)
    : Connection(asio::ip::tcp::socket(executor)),
      owner_(owner),
      connect_timer_(executor),
      age_timer_(executor) {}

std::shared_ptr<ClientConnection> ClientConnection::create(asio::any_io_executor executor,
                                                           const SessionSettings& settings,
                                                           Owner& owner) {
  auto conn = std::make_shared<ClientConnection>(executor, owner);
  nghttp2_option* opt = make_session_options(settings);
  nghttp2_session_client_new2(&conn->session_, client_callbacks(), conn.get(), opt);
  nghttp2_option_del(opt);
  conn->submit_settings(settings, /*server=*/false);
  return conn;
}

void ClientConnection::connect(const asio::ip::tcp::endpoint& endpoint,
                               std::chrono::milliseconds timeout) {
  auto self = std::static_pointer_cast<ClientConnection>(shared_from_this());
  connect_timer_.expires_after(timeout);
  connect_timer_.async_wait([self](asio::error_code ec) {
    if (!ec && !self->connected_) self->close("connect timed out");
  });
  spdlog::debug("connecting to {}:{}", endpoint.address().to_string(), endpoint.port());
  socket_.async_connect(endpoint, [self](asio::error_code ec) {
    self->connect_timer_.cancel();
    if (self->closed()) return;
    if (ec) {
      self->close("connect failed: " + ec.message());
      return;
    }
    self->connected_ = true;
    self->start_io();
    self->owner_.on_connected(*self);
  });
}

Expected<int32_t, std::string> ClientConnection::submit_request(const HeaderBlock& headers,
                                                                bool has_body,
                                                                ClientStream* stream) {
  auto nv = to_nv(headers);
  nghttp2_data_provider provider{};
  provider.read_callback = read_body;
  int32_t id = nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(),
                                      has_body ? &provider : nullptr, nullptr);
  if (id < 0) return Unexpected(std::string(nghttp2_strerror(id)));
  streams_.emplace(id, Entry{stream});
  request_flush();
  return id;
}

void ClientConnection::set_max_age(std::chrono::milliseconds age) {
  age_timer_.expires_after(age);
  age_timer_.async_wait(
      [self = std::static_pointer_cast<ClientConnection>(shared_from_this())](asio::error_code ec) {
        if (ec || self->closed()) return;
        self->retired_ = true;
        self->owner_.on_capacity_changed(*self);
        self->close_if_retired_and_idle();
      });
}

void ClientConnection::close_if_retired_and_idle() {
  if (retired_ && streams_.empty() && !closed()) {
    nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);  // GOAWAY, then close
    close_after_write("max connection age");
  }
}

void ClientConnection::resume_request(int32_t stream_id) {
  if (closed()) return;
  nghttp2_session_resume_data(session_, stream_id);
  request_flush();
}

void ClientConnection::reset_stream(int32_t stream_id, uint32_t error_code) {
  if (closed()) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, error_code);
  request_flush();
}

void ClientConnection::detach(int32_t stream_id) {
  if (streams_.erase(stream_id) == 0) return;
  owner_.on_capacity_changed(*this);
  close_if_retired_and_idle();
}

uint32_t ClientConnection::stream_limit(uint32_t assumed) const {
  if (!settings_received_) return assumed;
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

ClientStream* ClientConnection::stream(int32_t stream_id) {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.stream;
}

void ClientConnection::mark_sent(int32_t stream_id) {
  auto it = streams_.find(stream_id);
  if (it != streams_.end()) it->second.headers_sent = true;
}

void ClientConnection::end_stream(int32_t stream_id, uint32_t error_code) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return;
  Entry entry = it->second;
  streams_.erase(it);
  const bool processed = entry.headers_sent && error_code != NGHTTP2_REFUSED_STREAM;
  entry.stream->on_upstream_closed(error_code, processed);
  owner_.on_capacity_changed(*this);
  close_if_retired_and_idle();
}

void ClientConnection::on_closed(const std::string& reason) {
  connect_timer_.cancel();
  age_timer_.cancel();
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, entry] : streams) {
    entry.stream->on_upstream_closed(kConnectionLost, entry.headers_sent);
  }
  owner_.on_connection_closed(*this, reason);
}

}  // namespace sluice::http2
