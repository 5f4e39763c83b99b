#include "support/dns_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

namespace sluice::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string find_dnsmasq() {
  if (const char* env = std::getenv("SLUICE_TEST_DNSMASQ")) return env;
  for (const char* path : {"/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

// A port free for both UDP and TCP on 127.0.0.1 (dnsmasq binds both), for a moment.
uint16_t free_port() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    socklen_t len = sizeof addr;
    uint16_t port = 0;
    if (bind(udp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        getsockname(udp, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
      int tcp = socket(AF_INET, SOCK_STREAM, 0);
      if (bind(tcp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) port = 0;
      close(tcp);
    }
    close(udp);
    if (port != 0) return port;
  }
  return 0;
}

// Skips a possibly compressed name at `at`; false if it runs off the end.
bool skip_name(const std::vector<unsigned char>& p, size_t& at) {
  while (at < p.size()) {
    const unsigned char len = p[at];
    if (len == 0) {
      ++at;
      return true;
    }
    if ((len & 0xc0) == 0xc0) {
      at += 2;
      return at <= p.size();
    }
    at += 1 + len;
  }
  return false;
}

uint16_t u16(const std::vector<unsigned char>& p, size_t at) {
  return static_cast<uint16_t>((p[at] << 8) | p[at + 1]);
}

}  // namespace

Expected<DnsServer, std::string> DnsServer::start(int ttl_seconds) {
  const std::string dnsmasq = find_dnsmasq();
  if (dnsmasq.empty()) {
    return Unexpected(
        std::string("dnsmasq not found: install dnsmasq-base (scripts/install-deps.sh)"));
  }
  char dir[] = "/tmp/sluice-dns-XXXXXX";
  if (mkdtemp(dir) == nullptr) return Unexpected(std::string("mkdtemp failed"));
  DnsServer server;
  server.hosts_path_ = std::string(dir) + "/hosts";
  server.files_ =
      std::shared_ptr<void>(nullptr, [dir = std::string(dir), hosts = server.hosts_path_](void*) {
        std::remove(hosts.c_str());
        std::remove((hosts + ".tmp").c_str());
        rmdir(dir.c_str());
      });
  std::ofstream(server.hosts_path_).flush();
  // dnsmasq started as root drops to "nobody" unless told to stay: the hosts file is ours.
  const passwd* user = getpwuid(geteuid());
  const std::string user_name = user != nullptr ? user->pw_name : "nobody";

  std::string last_error = "no free port";
  for (int attempt = 0; attempt < 5; ++attempt) {
    const uint16_t port = free_port();
    if (port == 0) continue;
    auto spawned = ChildProcess::spawn(
        dnsmasq,
        {"--keep-in-foreground", "--conf-file=/dev/null",
         "--pid-file=", "--listen-address=127.0.0.1", "--bind-interfaces",
         "--port=" + std::to_string(port), "--no-resolv", "--no-hosts", "--local=/#/",
         "--addn-hosts=" + server.hosts_path_, "--local-ttl=" + std::to_string(ttl_seconds),
         "--log-facility=/dev/null", "--user=" + user_name});
    if (!spawned) return Unexpected(spawned.error());
    server.process_ = std::make_unique<ChildProcess>(std::move(*spawned));
    server.port_ = port;
    server.address_ = "127.0.0.1:" + std::to_string(port);
    // Ready once it answers anything (REFUSED for an unknown name is an answer).
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < deadline && server.process_->running()) {
      if (server.a_records("ready.invalid", std::chrono::milliseconds(100))) return server;
    }
    auto code = server.process_->wait_exit(std::chrono::milliseconds(100));
    last_error = "dnsmasq on port " + std::to_string(port) +
                 (code ? " exited with " + std::to_string(*code) : std::string(" did not answer"));
    server.process_.reset();  // kills it if it still runs; another port may do
  }
  return Unexpected(last_error);
}

Expected<void, std::string> DnsServer::set_addresses(const std::string& name,
                                                     const std::vector<std::string>& addresses) {
  {
    std::ofstream out(hosts_path_ + ".tmp");
    for (const auto& a : addresses) out << a << " " << name << "\n";
  }
  std::rename((hosts_path_ + ".tmp").c_str(), hosts_path_.c_str());
  if (!process_->send_signal(SIGHUP)) return Unexpected(std::string("dnsmasq is not running"));
  std::vector<std::string> want;
  for (const auto& a : addresses) {
    if (a.find(':') == std::string::npos) want.push_back(a);
  }
  std::sort(want.begin(), want.end());
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  std::string seen = "no answer";
  while (Clock::now() < deadline) {
    auto got = a_records(name, std::chrono::milliseconds(200));
    if (got) {
      std::sort(got->begin(), got->end());
      if (*got == want) return {};
      seen = std::to_string(got->size()) + " addresses";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Unexpected("dnsmasq did not pick up the new records for " + name + " (" + seen + ")");
}

Expected<std::vector<std::string>, std::string> DnsServer::a_records(
    const std::string& name, std::chrono::milliseconds timeout) const {
  std::vector<unsigned char> q;
  const auto id = static_cast<uint16_t>(std::random_device{}());
  q.insert(q.end(), {static_cast<unsigned char>(id >> 8), static_cast<unsigned char>(id), 0x01,
                     0x00, 0, 1, 0, 0, 0, 0, 0, 0});  // RD, one question
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q.push_back(static_cast<unsigned char>(dot - start));
    q.insert(q.end(), name.begin() + static_cast<long>(start),
             name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});  // root, type A, class IN

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<unsigned char> p(4096);
  ssize_t n = -1;
  if (sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
      static_cast<ssize_t>(q.size())) {
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(timeout.count())) == 1) n = recv(fd, p.data(), p.size(), 0);
  }
  close(fd);
  if (n < 12) return Unexpected("no answer from dnsmasq on " + address_);
  p.resize(static_cast<size_t>(n));
  if (u16(p, 0) != id) return Unexpected(std::string("answer to another query"));

  std::vector<std::string> out;
  size_t at = 12;
  for (int i = 0; i < u16(p, 4); ++i) {  // questions
    if (!skip_name(p, at)) return Unexpected(std::string("bad answer"));
    at += 4;
  }
  for (int i = 0; i < u16(p, 6); ++i) {  // answers
    if (!skip_name(p, at) || at + 10 > p.size()) return Unexpected(std::string("bad answer"));
    const uint16_t type = u16(p, at);
    const uint16_t length = u16(p, at + 8);
    at += 10;
    if (at + length > p.size()) return Unexpected(std::string("bad answer"));
    if (type == 1 && length == 4) {
      char text[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &p[at], text, sizeof text);
      out.push_back(text);
    }
    at += length;
  }
  return out;
}

}  // namespace sluice::testing
