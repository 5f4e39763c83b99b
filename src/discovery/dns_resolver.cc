#include "discovery/dns_resolver.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <asio/post.hpp>
#include <cstring>
#include <random>

#include "discovery/dns_refresh.h"

namespace sluice::discovery {
namespace {

// Per try; c-ares doubles it for the second. A dead server is noticed within ~3 s (at once
// when the port answers "unreachable"), well inside the usual refresh.
constexpr int kQueryTimeoutMs = 1000;
constexpr int kQueryTries = 2;

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

Expected<std::unique_ptr<DnsResolver>, std::string> DnsResolver::create(
    asio::io_context& io, const config::Discovery& d) {
  static const int library = ares_library_init(ARES_LIB_INIT_ALL);
  if (library != ARES_SUCCESS) {
    return Unexpected(std::string("c-ares: ") + ares_strerror(library));
  }
  if (d.server && !is_ip_literal(d.server->host)) {
    return Unexpected("dns server " + d.server->to_string() + ": must be an IP address");
  }
  std::unique_ptr<DnsResolver> r(new DnsResolver(io, d));
  ares_options options{};
  options.flags = ARES_FLAG_EDNS;  // larger UDP answers before falling back to TCP
  options.timeout = kQueryTimeoutMs;
  options.tries = kQueryTries;
  options.sock_state_cb = &DnsResolver::on_socket_state;
  options.sock_state_cb_data = r.get();
  const int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
  if (int rc = ares_init_options(&r->channel_, &options, mask); rc != ARES_SUCCESS) {
    r->channel_ = nullptr;
    return Unexpected(std::string("c-ares: ") + ares_strerror(rc));
  }
  if (d.server) {
    const std::string csv = d.server->to_string();
    if (int rc = ares_set_servers_ports_csv(r->channel_, csv.c_str()); rc != ARES_SUCCESS) {
      return Unexpected("dns server " + csv + ": " + ares_strerror(rc));
    }
  }
  return r;
}

DnsResolver::DnsResolver(asio::io_context& io, const config::Discovery& d)
    : io_(io),
      discovery_(d),
      query_timer_(io),
      refresh_timer_(io),
      random_(std::random_device{}()) {}

DnsResolver::~DnsResolver() {
  alive_.reset();
  // Ends pending queries (their callbacks see ARES_EDESTRUCTION) and reports every socket
  // closed, which releases its descriptor.
  if (channel_ != nullptr) ares_destroy(channel_);
  for (auto& [fd, socket] : sockets_) socket->descriptor.release();  // never ours to close
}

std::string DnsResolver::source() const {
  std::string s = "dns:" + discovery_.name.to_string();
  if (discovery_.server) s += "@" + discovery_.server->to_string();
  return s;
}

void DnsResolver::start(Callback on_update) {
  on_update_ = std::move(on_update);
  if (is_ip_literal(discovery_.name.host)) {  // nothing to ask: the one address is the set
    on_update_(EndpointList{config::Endpoint{discovery_.name}});
    return;
  }
  resolve();
}

void DnsResolver::resolve() {
  answers_ = {};
  if (discovery_.system_lookup) {
    pending_ = 2;  // one lookup, answered as the A and the AAAA half
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    ares_getaddrinfo(channel_, discovery_.name.host.c_str(), nullptr, &hints,
                     &DnsResolver::on_addrinfo, this);
    arm_query_timeout();
    return;
  }
  pending_ = 2;
  // The name as given (no search list), as the FQDN of a headless service is.
  const char* name = discovery_.name.host.c_str();
  ares_query(channel_, name, ns_c_in, ns_t_a, &DnsResolver::on_a_answer, this);
  ares_query(channel_, name, ns_c_in, ns_t_aaaa, &DnsResolver::on_aaaa_answer, this);
  arm_query_timeout();
}

void DnsResolver::on_a_answer(void* self, int status, int, unsigned char* abuf, int alen) {
  if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) return;  // being destroyed
  static_cast<DnsResolver*>(self)->answered(0, read_dns_answer(AF_INET, status, abuf, alen));
}

void DnsResolver::on_aaaa_answer(void* self, int status, int, unsigned char* abuf, int alen) {
  if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) return;
  static_cast<DnsResolver*>(self)->answered(1, read_dns_answer(AF_INET6, status, abuf, alen));
}

void DnsResolver::on_addrinfo(void* self, int status, int, ares_addrinfo* info) {
  if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
    if (info != nullptr) ares_freeaddrinfo(info);
    return;
  }
  // Into the A and AAAA answers the rest of the resolver understands. The hosts file is
  // nobody's authority: no records is an error (the last good set keeps serving).
  std::array<DnsAnswer, 2> answers;
  for (auto& a : answers) {
    a.kind = status == ARES_SUCCESS ? DnsAnswer::Kind::kNoRecords : DnsAnswer::Kind::kFailed;
    a.detail = status == ARES_SUCCESS ? "no records" : ares_strerror(status);
  }
  for (auto* node = info != nullptr ? info->nodes : nullptr; node != nullptr;
       node = node->ai_next) {
    const bool v4 = node->ai_family == AF_INET;
    if (!v4 && node->ai_family != AF_INET6) continue;
    DnsAnswer& a = answers[v4 ? 0 : 1];
    DnsAddress address;
    address.family = node->ai_family;
    const void* raw = v4 ? static_cast<const void*>(
                               &reinterpret_cast<const sockaddr_in*>(node->ai_addr)->sin_addr)
                         : static_cast<const void*>(
                               &reinterpret_cast<const sockaddr_in6*>(node->ai_addr)->sin6_addr);
    std::memcpy(address.bytes.data(), raw, v4 ? 4 : 16);
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(node->ai_family, raw, text, sizeof text);
    address.text = text;
    a.min_ttl_s =
        a.kind == DnsAnswer::Kind::kRecords ? std::min(a.min_ttl_s, node->ai_ttl) : node->ai_ttl;
    a.kind = DnsAnswer::Kind::kRecords;
    a.addresses.push_back(std::move(address));
  }
  if (info != nullptr) ares_freeaddrinfo(info);
  auto* r = static_cast<DnsResolver*>(self);
  r->answered(0, std::move(answers[0]));
  r->answered(1, std::move(answers[1]));
}

void DnsResolver::answered(size_t index, DnsAnswer answer) {
  answers_[index] = std::move(answer);
  if (--pending_ > 0) return;
  // Not from inside c-ares: the callback may do anything, even replace this resolver.
  asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (!alive.expired()) finish_round();
  });
}

void DnsResolver::finish_round() {
  auto result =
      combine_dns_answers(discovery_.name.host, discovery_.name.port, *answers_[0], *answers_[1]);
  if (!result) {
    ++failures_;
    refresh_in(refresh_after_failure(failures_, discovery_.min_refresh, discovery_.max_refresh,
                                     random_unit()));
    on_update_(Unexpected(result.error()));
    return;
  }
  failures_ = 0;
  refresh_in(refresh_after_answer(result->min_ttl, discovery_.min_refresh, discovery_.max_refresh,
                                  random_unit()));
  // Every good answer, changed or not: the proxy shows it as the last resolution time.
  on_update_(std::move(result->endpoints));
}

void DnsResolver::refresh_in(std::chrono::milliseconds delay) {
  refresh_timer_.expires_after(delay);
  refresh_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](asio::error_code ec) {
    if (!ec && !alive.expired()) resolve();
  });
}

double DnsResolver::random_unit() {
  constexpr uint64_t kSteps = 1u << 20;
  return static_cast<double>(random_.below(kSteps)) / kSteps;
}

// c-ares asks for the sockets it wants watched (and says when it closed one: 0, 0).
void DnsResolver::on_socket_state(void* self, ares_socket_t fd, int readable, int writable) {
  static_cast<DnsResolver*>(self)->socket_state(fd, readable != 0, writable != 0);
}

void DnsResolver::socket_state(int fd, bool readable, bool writable) {
  auto it = sockets_.find(fd);
  if (!readable && !writable) {
    if (it == sockets_.end()) return;
    it->second->open = false;
    it->second->descriptor.release();  // c-ares closes it; pending waits end as aborted
    sockets_.erase(it);
    return;
  }
  if (it == sockets_.end()) {
    auto socket = std::make_shared<Socket>(io_);
    socket->descriptor.assign(fd);
    it = sockets_.emplace(fd, std::move(socket)).first;
  }
  it->second->want_read = readable;
  it->second->want_write = writable;
  watch(it->second);
}

void DnsResolver::watch(const std::shared_ptr<Socket>& socket) {
  if (socket->want_read && !socket->reading) wait(socket, false);
  if (socket->want_write && !socket->writing) wait(socket, true);
}

void DnsResolver::wait(const std::shared_ptr<Socket>& socket, bool for_write) {
  (for_write ? socket->writing : socket->reading) = true;
  const auto type = for_write ? asio::posix::stream_descriptor::wait_write
                              : asio::posix::stream_descriptor::wait_read;
  // The weak socket also guards `this`: the resolver owns every live socket.
  socket->descriptor.async_wait(type, [this, for_write,
                                       weak = std::weak_ptr<Socket>(socket)](asio::error_code ec) {
    auto s = weak.lock();
    if (!s) return;
    (for_write ? s->writing : s->reading) = false;
    if (ec || !s->open) return;
    const int fd = s->descriptor.native_handle();
    ares_process_fd(channel_, for_write ? ARES_SOCKET_BAD : fd, for_write ? fd : ARES_SOCKET_BAD);
    if (s->open) watch(s);
    arm_query_timeout();
  });
}

void DnsResolver::arm_query_timeout() {
  timeval tv{};
  if (ares_timeout(channel_, nullptr, &tv) == nullptr) {
    query_timer_.cancel();  // no query in flight
    return;
  }
  query_timer_.expires_after(std::chrono::seconds(tv.tv_sec) +
                             std::chrono::microseconds(tv.tv_usec));
  query_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](asio::error_code ec) {
    if (ec || alive.expired()) return;
    ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // times out what is due
    arm_query_timeout();
  });
}

}  // namespace sluice::discovery
