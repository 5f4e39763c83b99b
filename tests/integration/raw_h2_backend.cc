#include "integration/raw_h2_backend.h"

#include "payload_pattern.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

namespace sluice::testing {

struct RawH2Backend::Connection {
  RawH2Backend* backend;
  int fd;
  nghttp2_session* session = nullptr;
  std::map<int32_t, std::string> actions;            // stream id -> x-raw-action
  std::map<int32_t, std::string> previous_attempts;  // stream id -> grpc-previous-rpc-attempts
  std::map<int32_t, bool> body_sent;
  struct Received {
    size_t bytes = 0;
    uint64_t fnv = testserver::kFnvOffset;
  };
  std::map<int32_t, Received> received;  // request body so far, per stream
  std::set<int32_t> responded;           // a stream refused at its HEADERS may still end its body
  // "rst-after-headers": resets submitted only once the headers are on the wire (nghttp2
  // would send a RST_STREAM queued with them first).
  std::map<int32_t, uint32_t> reset_after_flush;
  bool dead = false;

  void respond(int32_t id);
  void on_body(int32_t id, const uint8_t* data, size_t len);
  bool refuse_at_headers() const {
    return backend->options_.refuse_at_headers &&
           backend->refused_.load() < backend->options_.refuse_first;
  }
  void flush();
};

namespace {

RawH2Backend::Connection& conn_of(void* user) {
  return *static_cast<RawH2Backend::Connection*>(user);
}

nghttp2_nv nv(const char* name, const std::string& value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name)),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.c_str())), std::strlen(name),
          value.size(), NGHTTP2_NV_FLAG_NONE};
}

int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
              const uint8_t* value, size_t valuelen, uint8_t, void* user) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  const std::string_view key(reinterpret_cast<const char*>(name), namelen);
  const std::string text(reinterpret_cast<const char*>(value), valuelen);
  if (key == "x-raw-action") conn_of(user).actions[frame->hd.stream_id] = text;
  if (key == "grpc-previous-rpc-attempts")
    conn_of(user).previous_attempts[frame->hd.stream_id] = text;
  return 0;
}

int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  const bool request_end = (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
                           (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  const bool early_refusal = frame->hd.type == NGHTTP2_HEADERS &&
                             frame->headers.cat == NGHTTP2_HCAT_REQUEST &&
                             conn_of(user).refuse_at_headers();
  if (early_refusal || request_end) conn_of(user).respond(frame->hd.stream_id);
  return 0;
}

int on_data_chunk(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len,
                  void* user) {
  conn_of(user).on_body(id, data, len);
  return 0;
}

int on_stream_close(nghttp2_session*, int32_t id, uint32_t, void* user) {
  conn_of(user).received.erase(id);
  conn_of(user).actions.erase(id);
  conn_of(user).previous_attempts.erase(id);
  conn_of(user).body_sent.erase(id);
  conn_of(user).responded.erase(id);
  return 0;
}

// One empty gRPC message, then the trailers.
ssize_t read_body(nghttp2_session* session, int32_t id, uint8_t* buf, size_t len, uint32_t* flags,
                  nghttp2_data_source*, void* user) {
  auto& conn = conn_of(user);
  size_t n = 0;
  if (!conn.body_sent[id] && len >= 5) {
    std::memset(buf, 0, 5);
    n = 5;
    conn.body_sent[id] = true;
  }
  *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
  const std::string ok = "0";
  nghttp2_nv trailers[] = {nv("grpc-status", ok)};
  nghttp2_submit_trailer(session, id, trailers, 1);
  return static_cast<ssize_t>(n);
}

nghttp2_session_callbacks* callbacks() {
  static nghttp2_session_callbacks* cb = [] {
    nghttp2_session_callbacks* c = nullptr;
    nghttp2_session_callbacks_new(&c);
    nghttp2_session_callbacks_set_on_header_callback(c, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(c, on_stream_close);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, on_data_chunk);
    return c;
  }();
  return cb;
}

// The error code after `prefix` in `action`, if it starts so.
std::optional<uint32_t> code_after(const std::string& action, std::string_view prefix) {
  if (action.rfind(prefix, 0) != 0) return std::nullopt;
  return static_cast<uint32_t>(std::stoul(action.substr(prefix.size())));
}

}  // namespace

void RawH2Backend::Connection::on_body(int32_t id, const uint8_t* data, size_t len) {
  auto& r = received[id];
  r.bytes += len;
  r.fnv = testserver::fnv1a(r.fnv, {reinterpret_cast<const char*>(data), len});
  const size_t limit = backend->options_.goaway_after_body_bytes;
  if (limit > 0 && r.bytes > limit && backend->goaways_.load() == 0) {
    ++backend->goaways_;
    nghttp2_submit_goaway(session, NGHTTP2_FLAG_NONE, id > 2 ? id - 2 : 0, NGHTTP2_NO_ERROR,
                          nullptr, 0);
  }
}

void RawH2Backend::Connection::respond(int32_t id) {
  if (!responded.insert(id).second) return;
  const std::string action = actions[id];
  if (backend->refused_.load() < backend->options_.refuse_first) {
    ++backend->refused_;
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
    return;
  }
  const std::string status = "200", type = "application/grpc", id_value = backend->options_.id;
  const std::string bytes = std::to_string(received[id].bytes),
                    fnv = std::to_string(received[id].fnv);
  const std::string previous = previous_attempts.count(id) ? previous_attempts[id] : "0";
  nghttp2_nv headers[] = {nv(":status", status),        nv("content-type", type),
                          nv("x-backend-id", id_value), nv("x-body-bytes", bytes),
                          nv("x-body-fnv", fnv),        nv("x-previous-rpc-attempts", previous)};
  constexpr size_t kHeaders = sizeof(headers) / sizeof(headers[0]);
  const Options& o = backend->options_;
  if (backend->failed_.load() < o.fail_first) {
    // Trailers-Only: the response headers carry the status (and the pushback, if any).
    ++backend->failed_;
    const std::string code = std::to_string(o.fail_code);
    std::vector<nghttp2_nv> only(headers, headers + kHeaders);
    only.push_back(nv("grpc-status", code));
    if (!o.pushback.empty()) only.push_back(nv("grpc-retry-pushback-ms", o.pushback));
    nghttp2_submit_response(session, id, only.data(), only.size(), nullptr);
  } else if (auto code = code_after(action, "rst:")) {
    ++backend->reset_;
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, *code);
  } else if (auto code = code_after(action, "rst-after-headers:")) {
    ++backend->reset_;
    nghttp2_submit_headers(session, NGHTTP2_FLAG_NONE, id, nullptr, headers, kHeaders, nullptr);
    reset_after_flush[id] = *code;
  } else {
    ++backend->answered_;
    nghttp2_data_provider provider{};
    provider.read_callback = read_body;
    nghttp2_submit_response(session, id, headers, kHeaders, &provider);
  }
}

void RawH2Backend::Connection::flush() {
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session, &data);
    if (n < 0) {
      dead = true;
      return;
    }
    if (n == 0) {
      if (reset_after_flush.empty()) return;
      for (auto [id, code] : reset_after_flush) {
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, code);
      }
      reset_after_flush.clear();
      continue;
    }
    while (n > 0) {
      ssize_t w = ::send(fd, data, static_cast<size_t>(n), MSG_NOSIGNAL);
      if (w <= 0) {
        dead = true;
        return;
      }
      data += w;
      n -= w;
    }
  }
}

Expected<std::unique_ptr<RawH2Backend>, std::string> RawH2Backend::start(Options options) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return Unexpected(std::string("raw backend: cannot listen: ") + std::strerror(errno));
  }
  auto backend =
      std::unique_ptr<RawH2Backend>(new RawH2Backend(fd, ntohs(addr.sin_port), std::move(options)));
  backend->thread_ = std::thread([b = backend.get()] { b->serve(); });
  return backend;
}

RawH2Backend::RawH2Backend(int listen_fd, uint16_t port, Options options)
    : listen_fd_(listen_fd), port_(port), options_(std::move(options)) {
  if (::pipe(wake_fds_) != 0) wake_fds_[0] = wake_fds_[1] = -1;
}

RawH2Backend::~RawH2Backend() {
  if (wake_fds_[1] >= 0) (void)::write(wake_fds_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  for (int fd : {listen_fd_, wake_fds_[0], wake_fds_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

void RawH2Backend::serve() {
  std::vector<std::unique_ptr<Connection>> conns;
  for (;;) {
    std::vector<pollfd> fds{{wake_fds_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (auto& c : conns) fds.push_back({c->fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 1000) < 0) break;
    if (fds[0].revents != 0) break;
    if (fds[1].revents & POLLIN) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd >= 0) {
        auto c = std::make_unique<Connection>();
        c->backend = this;
        c->fd = fd;
        nghttp2_session_server_new(&c->session, callbacks(), c.get());
        nghttp2_settings_entry settings[] = {
            {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
            {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options_.stream_window}};
        nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 2);
        c->flush();
        conns.push_back(std::move(c));
      }
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Connection& c = *conns[i - 2];
      uint8_t buf[16384];
      ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
      if (n <= 0 || nghttp2_session_mem_recv(c.session, buf, static_cast<size_t>(n)) < 0) {
        c.dead = true;
      } else {
        c.flush();
      }
    }
    std::erase_if(conns, [](const std::unique_ptr<Connection>& c) {
      if (!c->dead) return false;
      nghttp2_session_del(c->session);
      ::close(c->fd);
      return true;
    });
  }
  for (auto& c : conns) {
    nghttp2_session_del(c->session);
    ::close(c->fd);
  }
}

}  // namespace sluice::testing
