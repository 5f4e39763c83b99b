#include "support/loopback_backends.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "support/bin_path.h"

namespace sluice::testing {
namespace {

// Binds HOST:port (0: any) without SO_REUSEPORT; the port bound, or 0.
uint16_t try_bind(const std::string& host, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  socklen_t len = sizeof addr;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  uint16_t bound = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    bound = ntohs(addr.sin_port);
  }
  close(fd);
  return bound;
}

// A port free on every backend address: the kernel's pick on the first, checked on the rest
// (the testserver sets SO_REUSEPORT, so a clash would not fail, it would share the port).
uint16_t shared_free_port(int count) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    const uint16_t port = try_bind(LoopbackBackends::host(0), 0);
    bool all = port != 0;
    for (int i = 1; all && i < count; ++i) all = try_bind(LoopbackBackends::host(i), port) != 0;
    if (all) return port;
  }
  return 0;
}

}  // namespace

std::vector<std::string> LoopbackBackends::hosts(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(host(i));
  return out;
}

Expected<LoopbackBackends, std::string> LoopbackBackends::start(int count) {
  if (count < 1 || count > 250) return Unexpected(std::string("1 to 250 backends"));
  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    LoopbackBackends b;
    b.port_ = shared_free_port(count);
    if (b.port_ == 0) return Unexpected(std::string("no port free on every backend address"));
    for (int i = 0; i < count; ++i) {
      const std::string listen = host(i) + ":" + std::to_string(b.port_);
      auto child =
          ChildProcess::spawn(bin_path("sluice-testserver"), {"--listen", listen, "--id", id(i)});
      if (!child) return Unexpected(child.error());
      auto line = child->read_line(std::chrono::seconds(10));
      if (!line || !line->starts_with("listening on ")) {
        last_error = "sluice-testserver on " + listen + " did not start";
        break;  // taken meanwhile: all again on another port
      }
      b.processes_.push_back(std::make_unique<ChildProcess>(std::move(*child)));
    }
    if (static_cast<int>(b.processes_.size()) == count) return b;
  }
  return Unexpected(last_error);
}

}  // namespace sluice::testing
