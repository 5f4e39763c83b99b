// sluice-testserver backends on distinct loopback addresses (127.0.0.2, 127.0.0.3, ...) that
// all listen on one port, so a DNS name's A records alone tell them apart. Backend I answers
// with id "nI". Each is killed by its PID when the object goes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/expected.h"
#include "support/child_process.h"

namespace sluice::testing {

class LoopbackBackends {
 public:
  // Starts `count` (at most 250) backends; retries with another port if one was taken meanwhile.
  static Expected<LoopbackBackends, std::string> start(int count);

  uint16_t port() const { return port_; }
  static std::string host(int i) { return "127.0.0." + std::to_string(2 + i); }
  static std::string id(int i) { return "n" + std::to_string(i); }
  // host(i) for i in [from, to).
  static std::vector<std::string> hosts(int from, int to);

 private:
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<ChildProcess>> processes_;
};

}  // namespace sluice::testing
