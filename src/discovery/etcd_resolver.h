// etcd v3 discovery: every key under a prefix is one endpoint (value "host:port" or JSON, see
// docs/discovery.md). An initial Range, then a Watch from the Range's revision + 1. When the
// stream breaks, the watch resumes on the next etcd member (after a jittered backoff, 500 ms
// x1.6 up to 30 s) from the last applied revision + 1, so no event is missed or applied twice;
// only a compacted history needs a new Range. The last good set keeps serving meanwhile and the
// error is reported. The gRPC client runs in one thread of its own (the control loop is asio);
// every result is posted to the io_context, where the callback runs.
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "discovery/etcd_watch_state.h"
#include "discovery/resolver.h"

namespace sluice::discovery {

class StopSwitch;

class EtcdResolver final : public Resolver {
 public:
  struct Options {
    std::vector<config::HostPort> endpoints;  // etcd members, tried in turn
    std::string prefix;
    std::chrono::milliseconds initial_backoff{500};
    std::chrono::milliseconds max_backoff{30000};
  };

  EtcdResolver(asio::io_context& io, Options options);
  // Cancels the call in progress and joins the client thread; results still queued on the
  // io_context are dropped.
  ~EtcdResolver() override;
  void start(Callback on_update) override;
  // "etcd:127.0.0.1:2379,127.0.0.2:2379/sluice/backends/"
  std::string source() const override;

 private:
  enum class WatchEnd { kBroken, kCompacted };
  void run();
  // One connection to `member`: Range if needed, then watch until the stream ends. Returns
  // why it ended; `error` says what broke.
  WatchEnd sync(size_t member, std::string& error);
  // Sends the set if it changed (or none went out yet), then each bad-value error.
  void publish(const EtcdWatchState::Update& update);
  void deliver(ResolveResult result);

  asio::io_context& io_;
  Options options_;
  Callback on_update_;
  EtcdWatchState state_;  // client thread only
  std::unique_ptr<StopSwitch> stop_;
  bool delivered_ = false;       // client thread: a good set went out at least once
  bool error_reported_ = false;  // client thread: the last thing delivered was an error
  std::chrono::milliseconds backoff_{0};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::thread thread_;
};

// The registry's factory for `type: etcd`.
Expected<std::unique_ptr<Resolver>, std::string> make_etcd_resolver(asio::io_context& io,
                                                                    const config::Discovery& d);

}  // namespace sluice::discovery
