#include "discovery/etcd_client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace sluice::discovery {

std::shared_ptr<grpc::Channel> make_etcd_channel(const config::HostPort& member) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // etcd's server accepts pings every 5 s or slower (--grpc-keepalive-min-time).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  // A watch can be quiet for hours: keep pinging although no DATA frames flow.
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  return grpc::CreateCustomChannel(member.to_string(), grpc::InsecureChannelCredentials(), args);
}

void StopSwitch::stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  if (call_ != nullptr) call_->TryCancel();
  cv_.notify_all();
}

bool StopSwitch::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

bool StopSwitch::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopped_; });
  return !stopped_;
}

StopSwitch::Call::Call(StopSwitch& stop, grpc::ClientContext& ctx) : stop_(stop) {
  std::lock_guard lock(stop_.mu_);
  stop_.call_ = &ctx;
  // Stopped before the call began: gRPC cancels it as soon as it starts.
  if (stop_.stopped_) ctx.TryCancel();
}

StopSwitch::Call::~Call() {
  std::lock_guard lock(stop_.mu_);
  stop_.call_ = nullptr;
}

}  // namespace sluice::discovery
