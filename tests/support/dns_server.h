// A real DNS server for tests: dnsmasq on 127.0.0.1 and a free port, answering only from its
// own hosts file (no upstream, no /etc/hosts; every other name and type gets an empty answer,
// not REFUSED), with a fixed TTL. Changing the records rewrites the file and sends SIGHUP,
// which makes dnsmasq read it again. Stopped (SIGKILL) by its PID when the object goes.
//
//   auto dns = DnsServer::start(1);
//   ASSERT_TRUE(dns) << dns.error();
//   ASSERT_TRUE(dns->set_addresses("backends.test", {"127.0.0.2", "127.0.0.3"}));
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/expected.h"
#include "support/child_process.h"

namespace sluice::testing {

class DnsServer {
 public:
  // Fails if dnsmasq is not installed (scripts/install-deps.sh: dnsmasq-base) or does not
  // answer within a few seconds.
  static Expected<DnsServer, std::string> start(int ttl_seconds = 1);

  DnsServer(DnsServer&&) noexcept = default;
  DnsServer& operator=(DnsServer&&) noexcept = default;
  ~DnsServer() = default;

  // `name` resolves to exactly `addresses` (IPv4 or IPv6 literals; none: the name is gone).
  // Returns once dnsmasq answers the name's A query with the new IPv4 addresses.
  Expected<void, std::string> set_addresses(const std::string& name,
                                            const std::vector<std::string>& addresses);
  // The IPv4 addresses dnsmasq answers for `name` now (one UDP query); an error if it does
  // not answer within `timeout`.
  Expected<std::vector<std::string>, std::string> a_records(
      const std::string& name,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(500)) const;

  const std::string& address() const { return address_; }  // "127.0.0.1:PORT"
  uint16_t port() const { return port_; }
  pid_t pid() const { return process_->pid(); }
  ChildProcess& process() { return *process_; }

 private:
  DnsServer() = default;

  std::unique_ptr<ChildProcess> process_;
  std::shared_ptr<void> files_;  // removes the hosts file and its folder when the last copy goes
  std::string hosts_path_;
  std::string address_;
  uint16_t port_ = 0;
};

}  // namespace sluice::testing
