// A real etcd (Debian's etcd-server) for tests: one member on 127.0.0.1 with free client and
// peer ports and a data folder of its own. Stopped by PID; restartable on the same ports and
// data (so keys, leases and revisions survive, as in a real restart). Its log goes to a file in
// the data folder, shown when it fails to start.
//
//   auto etcd = EtcdServer::start();
//   ASSERT_TRUE(etcd) << etcd.error();
//   (*etcd)->put("/sluice/backends/a", "127.0.0.1:50051");
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/expected.h"
#include "support/child_process.h"

namespace sluice::testing {

class EtcdServer {
 public:
  // Starts etcd and returns once a Range succeeds (up to 10 s).
  static Expected<std::unique_ptr<EtcdServer>, std::string> start();
  // Kills a running etcd (SIGKILL, only its PID) and removes the data folder.
  ~EtcdServer();
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  const std::string& endpoint() const { return endpoint_; }  // "127.0.0.1:PORT"
  pid_t pid() const { return process_ ? process_->pid() : -1; }

  // SIGTERM and wait for the exit.
  Expected<void, std::string> stop();
  // Starts again on the same ports and data; returns once it serves.
  Expected<void, std::string> restart();

  // Plain KV calls for tests that write keys themselves. Each returns the store's revision after
  // the call.
  Expected<int64_t, std::string> put(const std::string& key, const std::string& value);
  Expected<int64_t, std::string> remove(const std::string& key);
  // Every key under `prefix` with its value.
  Expected<std::map<std::string, std::string>, std::string> range(const std::string& prefix);
  // The lease `key` is attached to (0: none or no such key).
  Expected<int64_t, std::string> lease_of(const std::string& key);
  // Revokes a lease (its keys are deleted), as if it had expired.
  Expected<void, std::string> revoke(int64_t lease);
  // Drops the history before `revision`: watches that resume from older revisions are told so.
  Expected<void, std::string> compact(int64_t revision);

 private:
  EtcdServer() = default;
  Expected<void, std::string> launch();
  std::string log_tail() const;

  std::string dir_;
  uint16_t client_port_ = 0;
  uint16_t peer_port_ = 0;
  std::string endpoint_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace sluice::testing
