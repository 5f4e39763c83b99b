// DNS discovery (Kubernetes headless-service semantics): every A and AAAA record of a name is
// an endpoint on the configured port. The name is asked again when the answer's smallest TTL
// runs out, clamped to [min_refresh, max_refresh] with jitter; after a failure the last good
// set keeps serving and the resolver backs off (see dns_answer.h for what counts as failure).
//
// c-ares runs on the io_context the resolver is given: its sockets are watched with asio
// (without taking them over: c-ares opens and closes them), and one timer drives its query
// timeouts, another the refresh.
//
// With Discovery::system_lookup (static endpoints given by name) one ares_getaddrinfo replaces
// the two queries: the hosts file first, then DNS, as getaddrinfo(3) would, but never
// blocking the thread.
#pragma once

#include <ares.h>

#include <array>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/random.h"
#include "discovery/dns_answer.h"
#include "discovery/resolver.h"

namespace sluice::discovery {

class DnsResolver final : public Resolver {
 public:
  // Fails if c-ares cannot start or the server is not an IP address.
  static Expected<std::unique_ptr<DnsResolver>, std::string> create(asio::io_context& io,
                                                                    const config::Discovery& d);
  ~DnsResolver() override;
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  void start(Callback on_update) override;
  // "dns:NAME:PORT" or "dns:NAME:PORT@SERVER".
  std::string source() const override;

 private:
  struct Socket {
    explicit Socket(asio::io_context& io) : descriptor(io) {}
    asio::posix::stream_descriptor descriptor;
    bool want_read = false, want_write = false;
    bool reading = false, writing = false;
    bool open = true;
  };

  DnsResolver(asio::io_context& io, const config::Discovery& d);
  static void on_socket_state(void* self, ares_socket_t fd, int readable, int writable);
  static void on_a_answer(void* self, int status, int timeouts, unsigned char* abuf, int alen);
  static void on_aaaa_answer(void* self, int status, int timeouts, unsigned char* abuf, int alen);
  static void on_addrinfo(void* self, int status, int timeouts, ares_addrinfo* info);

  void socket_state(int fd, bool readable, bool writable);
  void watch(const std::shared_ptr<Socket>& socket);
  void wait(const std::shared_ptr<Socket>& socket, bool for_write);
  void arm_query_timeout();
  void resolve();
  void answered(size_t index, DnsAnswer answer);
  void finish_round();
  void refresh_in(std::chrono::milliseconds delay);
  double random_unit();

  asio::io_context& io_;
  config::Discovery discovery_;
  ares_channel channel_ = nullptr;
  std::map<int, std::shared_ptr<Socket>> sockets_;
  asio::steady_timer query_timer_;
  asio::steady_timer refresh_timer_;
  std::array<std::optional<DnsAnswer>, 2> answers_;  // A, AAAA of the round in flight
  int pending_ = 0;
  int failures_ = 0;  // in a row, for the backoff
  core::FastRandom random_;
  Callback on_update_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sluice::discovery
