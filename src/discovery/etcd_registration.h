// Registers a service in etcd for Sluice's etcd discovery: the key prefix + id holds the
// endpoint's value under a lease that a background thread keeps alive (every TTL/3). If the
// lease is lost (etcd unreachable for longer than the TTL), the key is written again under a
// new lease as soon as etcd answers. If the process dies, the key vanishes when the lease
// expires; a clean stop calls deregister() first, before draining, so proxies stop sending new
// calls while the running ones finish.
//
//   sluice::discovery::EtcdRegistration reg({.etcd = {{"127.0.0.1", 2379}},
//                                            .key = "/sluice/backends/" + id,
//                                            .value = etcd_endpoint_value(endpoint)});
//   reg.wait_registered(std::chrono::seconds(5));
//   ... serve ...
//   reg.deregister();   // on SIGTERM, then drain
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/expected.h"
#include "config/config.h"

namespace sluice::discovery {

class StopSwitch;

// The JSON value the etcd resolver reads: {"address":"host:port"} plus weight (when not 1),
// zone and metadata (when set).
std::string etcd_endpoint_value(const config::Endpoint& endpoint);

class EtcdRegistration {
 public:
  struct Options {
    std::vector<config::HostPort> etcd;  // members, tried in turn
    std::string key;                     // prefix + id
    std::string value;                   // etcd_endpoint_value(...) or "host:port"
    std::chrono::seconds ttl{10};        // etcd raises TTLs below its minimum (2 s by default)
  };

  // Starts registering in a background thread; returns at once.
  explicit EtcdRegistration(Options options);
  // Stops keeping the lease alive without revoking it: the key expires after the TTL.
  ~EtcdRegistration();
  EtcdRegistration(const EtcdRegistration&) = delete;
  EtcdRegistration& operator=(const EtcdRegistration&) = delete;

  // True once the key is written (false after `timeout`; the thread keeps trying).
  bool wait_registered(std::chrono::milliseconds timeout);
  // Stops the keepalive and revokes the lease, which deletes the key at once. Fails if no etcd
  // member confirmed within `timeout` (the key then expires after the TTL).
  Expected<void, std::string> deregister(
      std::chrono::milliseconds timeout = std::chrono::seconds(2));

 private:
  void run();
  // Registers (if needed) on `member` and keeps the lease alive until the connection breaks
  // (returns the reason) or stop.
  std::string keep_alive(size_t member);
  void set_registered(bool registered);

  Options options_;
  std::unique_ptr<StopSwitch> stop_;
  // Client thread only (and deregister() after the join).
  int64_t lease_ = 0;
  int64_t granted_ttl_ = 0;
  bool key_written_ = false;
  size_t member_ = 0;
  std::chrono::milliseconds backoff_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool registered_ = false;
  std::thread thread_;
};

}  // namespace sluice::discovery
