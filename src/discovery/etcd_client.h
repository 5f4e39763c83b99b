// Plumbing shared by the etcd resolver and registration, whose gRPC clients each run in one
// thread of their own with the blocking (sync) API: a channel to one etcd member, and a stop
// switch that also cancels the call in progress so the thread can be joined at once.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "config/config.h"

namespace sluice::discovery {

// A fresh channel with its own subchannel (never one shared with an earlier channel's reconnect
// backoff: we run our own) and HTTP/2 keepalive, so a member that vanished without closing the
// connection is noticed within ~15 s even on a quiet watch.
std::shared_ptr<grpc::Channel> make_etcd_channel(const config::HostPort& member);

class StopSwitch {
 public:
  // Sets the switch, cancels the registered call and wakes sleep_for().
  void stop();
  bool stopped() const;
  // Sleeps up to `d`; false if stopped (before or during the sleep).
  bool sleep_for(std::chrono::milliseconds d);

  // While alive, stop() cancels `ctx`'s call. Build one before starting the call.
  class Call {
   public:
    Call(StopSwitch& stop, grpc::ClientContext& ctx);
    ~Call();
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

   private:
    StopSwitch& stop_;
  };

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  grpc::ClientContext* call_ = nullptr;
};

}  // namespace sluice::discovery
