#include "integration/h2_attacker.h"

#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace sluice::testing {
namespace {

nghttp2_hd_deflater* deflater_of(void* p) { return static_cast<nghttp2_hd_deflater*>(p); }

std::string encode(nghttp2_hd_deflater* deflater, const RawHeaders& headers) {
  std::vector<nghttp2_nv> nv;
  for (const auto& [n, v] : headers) {
    nv.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
                  reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(),
                  NGHTTP2_NV_FLAG_NONE});
  }
  std::string out(nghttp2_hd_deflate_bound(deflater, nv.data(), nv.size()), '\0');
  ssize_t n = nghttp2_hd_deflate_hd(deflater, reinterpret_cast<uint8_t*>(out.data()), out.size(),
                                    nv.data(), nv.size());
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

}  // namespace

H2Attacker::H2Attacker(const std::string& address, uint32_t initial_window)
    : fd_(raw_connect(address)) {
  nghttp2_hd_deflater* d = nullptr;
  nghttp2_hd_deflate_new(&d, 4096);
  deflater_ = d;
  std::string settings;
  if (initial_window != 65535) {
    settings = {0,
                NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE,
                static_cast<char>(initial_window >> 24),
                static_cast<char>(initial_window >> 16),
                static_cast<char>(initial_window >> 8),
                static_cast<char>(initial_window)};
  }
  if (fd_ >= 0)
    send(std::string(NGHTTP2_CLIENT_MAGIC, NGHTTP2_CLIENT_MAGIC_LEN) +
         frame(NGHTTP2_SETTINGS, 0, 0, settings));
}

H2Attacker::~H2Attacker() {
  if (fd_ >= 0) ::close(fd_);
  nghttp2_hd_deflate_del(deflater_of(deflater_));
}

std::string H2Attacker::frame(uint8_t type, uint8_t flags, uint32_t stream_id,
                              const std::string& payload) {
  const auto len = static_cast<uint32_t>(payload.size());
  std::string f = {static_cast<char>(len >> 16),
                   static_cast<char>(len >> 8),
                   static_cast<char>(len),
                   static_cast<char>(type),
                   static_cast<char>(flags),
                   static_cast<char>(stream_id >> 24),
                   static_cast<char>(stream_id >> 16),
                   static_cast<char>(stream_id >> 8),
                   static_cast<char>(stream_id)};
  return f + payload;
}

std::string H2Attacker::request_headers(uint32_t stream_id, const std::string& path,
                                        bool end_stream, bool more_follow) {
  const RawHeaders h = {{":method", "POST"},
                        {":scheme", "http"},
                        {":path", path},
                        {":authority", "attacker"},
                        {"content-type", "application/grpc"},
                        {"te", "trailers"}};
  uint8_t flags =
      (more_follow ? 0 : NGHTTP2_FLAG_END_HEADERS) | (end_stream ? NGHTTP2_FLAG_END_STREAM : 0);
  return frame(NGHTTP2_HEADERS, flags, stream_id, encode(deflater_of(deflater_), h));
}

std::string H2Attacker::header_field(const std::string& name, const std::string& value) {
  return encode(deflater_of(deflater_), {{name, value}});
}

bool H2Attacker::send(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    pollfd p{fd_, POLLOUT | POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
    if (p.revents & POLLIN) {  // keep the server's replies flowing so it never blocks on us
      parse(seen_);
      if (seen_.closed) return false;
    }
    if (!(p.revents & POLLOUT)) continue;
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

void H2Attacker::parse(Outcome& out) {
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
    out.closed = true;
    return;
  }
  if (n < 0) return;
  inbox_.append(buf, static_cast<size_t>(n));
  while (inbox_.size() >= 9) {
    const auto* h = reinterpret_cast<const uint8_t*>(inbox_.data());
    const size_t len = (size_t{h[0]} << 16) | (size_t{h[1]} << 8) | h[2];
    if (inbox_.size() < 9 + len) break;
    ++out.frames;
    if (h[3] == NGHTTP2_GOAWAY && !out.goaway && len >= 8) {
      const auto* p = h + 9;
      out.goaway = true;
      out.goaway_code =
          (uint32_t{p[4]} << 24) | (uint32_t{p[5]} << 16) | (uint32_t{p[6]} << 8) | p[7];
      out.goaway_debug.assign(reinterpret_cast<const char*>(p + 8), len - 8);
    }
    inbox_.erase(0, 9 + len);
  }
}

H2Attacker::Outcome H2Attacker::read_until_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!seen_.closed && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) parse(seen_);
  }
  return seen_;
}

}  // namespace sluice::testing
