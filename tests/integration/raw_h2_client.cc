#include "integration/raw_h2_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <string_view>

namespace sluice::testing {
namespace {

struct State {
  RawResponse response;
  int32_t stream_id = -1;
  bool closed = false;
  const std::string* body = nullptr;
  size_t body_sent = 0;
};

int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
              const uint8_t* value, size_t valuelen, uint8_t, void* user) {
  auto* st = static_cast<State*>(user);
  auto& target = st->response.header_frames == 0 ? st->response.headers : st->response.trailers;
  target.emplace_back(std::string(reinterpret_cast<const char*>(name), namelen),
                      std::string(reinterpret_cast<const char*>(value), valuelen));
  (void)frame;
  return 0;
}

int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* st = static_cast<State*>(user);
  if (frame->hd.type == NGHTTP2_HEADERS && frame->hd.stream_id == st->stream_id) {
    if (st->response.header_frames == 0) {
      st->response.first_headers_end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    }
    ++st->response.header_frames;
  }
  if (frame->hd.type == NGHTTP2_RST_STREAM && frame->hd.stream_id == st->stream_id) {
    st->response.rst_code = frame->rst_stream.error_code;
  }
  return 0;
}

int on_data(nghttp2_session*, uint8_t, int32_t, const uint8_t* data, size_t len, void* user) {
  static_cast<State*>(user)->response.body.append(reinterpret_cast<const char*>(data), len);
  return 0;
}

int on_close(nghttp2_session*, int32_t stream_id, uint32_t, void* user) {
  auto* st = static_cast<State*>(user);
  if (stream_id == st->stream_id) st->closed = true;
  return 0;
}

ssize_t read_body(nghttp2_session*, int32_t, uint8_t* buf, size_t len, uint32_t* flags,
                  nghttp2_data_source*, void* user) {
  auto* st = static_cast<State*>(user);
  size_t n = std::min(len, st->body->size() - st->body_sent);
  std::memcpy(buf, st->body->data() + st->body_sent, n);
  st->body_sent += n;
  if (st->body_sent == st->body->size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

// Views into `headers` for nghttp2_submit_request (which copies them).
std::vector<nghttp2_nv> to_nv(const RawHeaders& headers) {
  std::vector<nghttp2_nv> nv;
  for (const auto& [n, v] : headers) {
    nv.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
                  reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(),
                  NGHTTP2_NV_FLAG_NONE});
  }
  return nv;
}

// Writes what `session` has queued and feeds it what arrives on `fd` until `done()`; "" then,
// else what went wrong ("timed out", `closed_early` when the server closes first, ...).
std::string pump(nghttp2_session* session, int fd, std::chrono::milliseconds timeout,
                 const std::function<bool()>& done, const std::string& closed_early) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    const uint8_t* out;
    for (ssize_t n; (n = nghttp2_session_mem_send(session, &out)) > 0;) {
      if (::send(fd, out, n, MSG_NOSIGNAL) != n) return "write failed";
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "timed out";
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    uint8_t buf[16384];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return closed_early;
    if (nghttp2_session_mem_recv(session, buf, n) < 0) return "protocol error";
  }
  return "";
}

}  // namespace

int raw_connect(const std::string& address) {
  auto colon = address.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string RawResponse::header(const std::string& name) const {
  for (const auto* block : {&headers, &trailers}) {
    for (const auto& [n, v] : *block) {
      if (n == name) return v;
    }
  }
  return "";
}

Expected<RawResponse, std::string> raw_h2_request(const std::string& address,
                                                  const RawHeaders& headers,
                                                  const std::string& body,
                                                  std::chrono::milliseconds timeout) {
  int fd = raw_connect(address);
  if (fd < 0) return Unexpected("cannot connect to " + address);
  State st;
  st.body = &body;
  nghttp2_session_callbacks* cb;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
  nghttp2_session* session;
  nghttp2_session_client_new(&session, cb, &st);
  nghttp2_session_callbacks_del(cb);
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
  const std::vector<nghttp2_nv> nv = to_nv(headers);
  nghttp2_data_provider provider{};
  provider.read_callback = read_body;
  st.stream_id = nghttp2_submit_request(session, nullptr, nv.data(), nv.size(), &provider, &st);
  const std::string error = pump(
      session, fd, timeout, [&] { return st.closed; }, "connection closed before the stream ended");
  nghttp2_session_del(session);
  ::close(fd);
  if (!error.empty()) return Unexpected(error);
  return st.response;
}

namespace {
int on_flood_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* r = static_cast<PingFloodResult*>(user);
  if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK)) ++r->acks;
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    r->goaway = true;
    r->goaway_code = frame->goaway.error_code;
    r->goaway_debug.assign(reinterpret_cast<const char*>(frame->goaway.opaque_data),
                           frame->goaway.opaque_data_len);
  }
  return 0;
}
}  // namespace

PingFloodResult raw_h2_ping_flood(const std::string& address, int count,
                                  std::chrono::milliseconds timeout) {
  PingFloodResult result;
  int fd = raw_connect(address);
  if (fd < 0) return result;
  nghttp2_session_callbacks* cb;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_flood_frame);
  nghttp2_session* session;
  nghttp2_session_client_new(&session, cb, &result);
  nghttp2_session_callbacks_del(cb);
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
  for (int i = 0; i < count; ++i) {
    nghttp2_submit_ping(session, NGHTTP2_FLAG_NONE, nullptr);
    ++result.pings_sent;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const uint8_t* out;
    for (ssize_t n; (n = nghttp2_session_mem_send(session, &out)) > 0;) {
      if (::send(fd, out, n, MSG_NOSIGNAL) != n) break;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    uint8_t buf[16384];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
      result.closed = true;
      break;
    }
    nghttp2_session_mem_recv(session, buf, n);
  }
  nghttp2_session_del(session);
  ::close(fd);
  return result;
}

std::optional<std::chrono::milliseconds> raw_h2_silent_client(const std::string& address,
                                                              std::chrono::milliseconds timeout) {
  int fd = raw_connect(address);
  if (fd < 0) return std::nullopt;
  static constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  static constexpr uint8_t kEmptySettings[] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
  (void)!::send(fd, kPreface, sizeof kPreface - 1, MSG_NOSIGNAL);
  (void)!::send(fd, kEmptySettings, sizeof kEmptySettings, MSG_NOSIGNAL);
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + timeout;
  std::optional<std::chrono::milliseconds> closed_after;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    uint8_t buf[4096];
    if (read(fd, buf, sizeof buf) <= 0) {
      closed_after = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      break;
    }
  }
  ::close(fd);
  return closed_after;
}

Expected<RawResponse, std::string> raw_grpc_request(const std::string& address,
                                                    const std::string& path,
                                                    const std::string& message,
                                                    std::chrono::milliseconds timeout) {
  std::string framed(5, '\0');
  uint32_t len = htonl(static_cast<uint32_t>(message.size()));
  std::memcpy(framed.data() + 1, &len, 4);
  framed += message;
  return raw_h2_request(address,
                        {{":method", "POST"},
                         {":scheme", "http"},
                         {":path", path},
                         {":authority", "test"},
                         {"content-type", "application/grpc"},
                         {"te", "trailers"}},
                        framed, timeout);
}

namespace {

struct BurstState {
  BurstResult result;
  std::string body;
  std::map<int32_t, size_t> sent;     // stream -> body bytes sent
  std::map<int32_t, bool> status_ok;  // stream -> grpc-status 0 seen
  int open = 0;
};

int on_burst_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                    size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
  auto* st = static_cast<BurstState*>(user);
  if (std::string_view(reinterpret_cast<const char*>(name), namelen) == "grpc-status" &&
      std::string_view(reinterpret_cast<const char*>(value), valuelen) == "0") {
    st->status_ok[frame->hd.stream_id] = true;
  }
  return 0;
}

int on_burst_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* st = static_cast<BurstState*>(user);
  if (frame->hd.type == NGHTTP2_RST_STREAM)
    st->result.rst_codes.push_back(frame->rst_stream.error_code);
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    st->result.goaway = true;
    st->result.goaway_code = frame->goaway.error_code;
  }
  return 0;
}

int on_burst_close(nghttp2_session*, int32_t stream_id, uint32_t, void* user) {
  auto* st = static_cast<BurstState*>(user);
  if (st->status_ok[stream_id]) ++st->result.ok;
  --st->open;
  return 0;
}

ssize_t read_burst_body(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t len,
                        uint32_t* flags, nghttp2_data_source*, void* user) {
  auto* st = static_cast<BurstState*>(user);
  size_t& sent = st->sent[stream_id];
  const size_t n = std::min(len, st->body.size() - sent);
  std::memcpy(buf, st->body.data() + sent, n);
  sent += n;
  if (sent == st->body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

}  // namespace

BurstResult raw_grpc_burst(const std::string& address, const std::string& path,
                           const std::string& message, int count,
                           std::chrono::milliseconds timeout) {
  BurstState st;
  int fd = raw_connect(address);
  if (fd < 0) {
    st.result.error = "cannot connect to " + address;
    return st.result;
  }
  st.body.assign(5, '\0');
  const uint32_t len = htonl(static_cast<uint32_t>(message.size()));
  std::memcpy(st.body.data() + 1, &len, 4);
  st.body += message;
  nghttp2_session_callbacks* cb;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_header_callback(cb, on_burst_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_burst_frame);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_burst_close);
  nghttp2_session* session;
  nghttp2_session_client_new(&session, cb, &st);
  nghttp2_session_callbacks_del(cb);
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
  const RawHeaders headers = {{":method", "POST"},
                              {":scheme", "http"},
                              {":path", path},
                              {":authority", "test"},
                              {"content-type", "application/grpc"},
                              {"te", "trailers"}};
  const std::vector<nghttp2_nv> nv = to_nv(headers);
  nghttp2_data_provider provider{};
  provider.read_callback = read_burst_body;
  for (int i = 0; i < count; ++i) {
    if (nghttp2_submit_request(session, nullptr, nv.data(), nv.size(), &provider, nullptr) > 0) {
      ++st.open;
    }
  }
  st.result.error = pump(
      session, fd, timeout, [&] { return st.open <= 0; }, "connection closed with streams open");
  nghttp2_session_del(session);
  ::close(fd);
  return st.result;
}

}  // namespace sluice::testing