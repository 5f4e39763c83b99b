#include "discovery/etcd_registration.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>

#include "core/random.h"
#include "discovery/etcd_client.h"
#include "etcd/rpc.grpc.pb.h"

namespace sluice::discovery {
namespace {

constexpr std::chrono::seconds kCallTimeout{5};
constexpr std::chrono::milliseconds kInitialBackoff{500};
constexpr std::chrono::milliseconds kMaxBackoff{30000};

std::string describe(const grpc::Status& status) {
  return "gRPC status " + std::to_string(static_cast<int>(status.error_code())) + ": " +
         status.error_message();
}

void set_deadline(grpc::ClientContext& ctx, std::chrono::milliseconds timeout) {
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
}

}  // namespace

std::string etcd_endpoint_value(const config::Endpoint& endpoint) {
  nlohmann::json value = {{"address", endpoint.address.to_string()}};
  if (endpoint.weight != 1) value["weight"] = endpoint.weight;
  if (!endpoint.zone.empty()) value["zone"] = endpoint.zone;
  if (!endpoint.metadata.empty()) value["metadata"] = endpoint.metadata;
  return value.dump();
}

EtcdRegistration::EtcdRegistration(Options options)
    : options_(std::move(options)),
      stop_(std::make_unique<StopSwitch>()),
      backoff_(kInitialBackoff) {
  if (!options_.etcd.empty()) thread_ = std::thread([this] { run(); });
}

EtcdRegistration::~EtcdRegistration() {
  stop_->stop();
  if (thread_.joinable()) thread_.join();
}

bool EtcdRegistration::wait_registered(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return registered_; });
}

void EtcdRegistration::set_registered(bool registered) {
  std::lock_guard lock(mu_);
  registered_ = registered;
  cv_.notify_all();
}

void EtcdRegistration::run() {
  core::FastRandom random(std::random_device{}());
  while (!stop_->stopped()) {
    const std::string error = keep_alive(member_);
    if (stop_->stopped()) break;
    if (error.empty()) continue;  // the lease was lost: register again at once
    spdlog::warn("etcd registration of {} via {}: {}", options_.key,
                 options_.etcd[member_].to_string(), error);
    member_ = (member_ + 1) % options_.etcd.size();
    const auto wait = core::jittered(backoff_, 0.2, random);
    backoff_ = std::min(kMaxBackoff,
                        std::chrono::duration_cast<std::chrono::milliseconds>(backoff_ * 1.6));
    stop_->sleep_for(wait);
  }
}

std::string EtcdRegistration::keep_alive(size_t member) {
  auto channel = make_etcd_channel(options_.etcd[member]);
  auto lease = etcdserverpb::Lease::NewStub(channel);
  if (lease_ == 0) {
    etcdserverpb::LeaseGrantRequest request;
    request.set_ttl(options_.ttl.count());
    etcdserverpb::LeaseGrantResponse response;
    grpc::ClientContext ctx;
    set_deadline(ctx, kCallTimeout);
    StopSwitch::Call call(*stop_, ctx);
    const grpc::Status status = lease->LeaseGrant(&ctx, request, &response);
    if (!status.ok()) return "lease grant: " + describe(status);
    if (!response.error().empty()) return "lease grant: " + response.error();
    lease_ = response.id();
    granted_ttl_ = response.ttl();
    key_written_ = false;
  }
  if (!key_written_) {
    auto kv = etcdserverpb::KV::NewStub(channel);
    etcdserverpb::PutRequest request;
    request.set_key(options_.key);
    request.set_value(options_.value);
    request.set_lease(lease_);
    etcdserverpb::PutResponse response;
    grpc::ClientContext ctx;
    set_deadline(ctx, kCallTimeout);
    StopSwitch::Call call(*stop_, ctx);
    const grpc::Status status = kv->Put(&ctx, request, &response);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) lease_ = 0;  // expired meanwhile
    if (!status.ok()) return "put: " + describe(status);
    key_written_ = true;
    spdlog::info("etcd: registered {} = {} (lease {:x}, TTL {} s)", options_.key, options_.value,
                 lease_, granted_ttl_);
    set_registered(true);
  }

  grpc::ClientContext ctx;
  StopSwitch::Call call(*stop_, ctx);
  auto stream = lease->LeaseKeepAlive(&ctx);
  const auto interval = std::chrono::milliseconds(std::max<int64_t>(granted_ttl_, 1) * 1000 / 3);
  for (;;) {
    etcdserverpb::LeaseKeepAliveRequest request;
    request.set_id(lease_);
    etcdserverpb::LeaseKeepAliveResponse response;
    if (!stream->Write(request) || !stream->Read(&response)) {
      return "keepalive: " + describe(stream->Finish());
    }
    if (response.ttl() <= 0) {
      spdlog::warn("etcd: lease {:x} of {} expired, registering again", lease_, options_.key);
      lease_ = 0;
      set_registered(false);
      ctx.TryCancel();
      stream->Finish();
      return "";
    }
    backoff_ = kInitialBackoff;
    if (!stop_->sleep_for(interval)) break;
  }
  ctx.TryCancel();
  stream->Finish();
  return "";
}

Expected<void, std::string> EtcdRegistration::deregister(std::chrono::milliseconds timeout) {
  stop_->stop();
  if (thread_.joinable()) thread_.join();
  set_registered(false);
  if (lease_ == 0) return {};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string error;
  // Every member once, starting with the one that answered last.
  for (size_t i = 0; i < options_.etcd.size(); ++i) {
    const size_t member = (member_ + i) % options_.etcd.size();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds(0)) break;
    auto lease = etcdserverpb::Lease::NewStub(make_etcd_channel(options_.etcd[member]));
    etcdserverpb::LeaseRevokeRequest request;
    request.set_id(lease_);
    etcdserverpb::LeaseRevokeResponse response;
    grpc::ClientContext ctx;
    set_deadline(ctx, left / static_cast<int64_t>(options_.etcd.size() - i));
    const grpc::Status status = lease->LeaseRevoke(&ctx, request, &response);
    // NOT_FOUND: the lease expired already, and the key with it.
    if (status.ok() || status.error_code() == grpc::StatusCode::NOT_FOUND) {
      spdlog::info("etcd: deregistered {}", options_.key);
      lease_ = 0;
      return {};
    }
    error = options_.etcd[member].to_string() + ": " + describe(status);
  }
  return Unexpected("etcd: could not revoke the lease of " + options_.key +
                    (error.empty() ? std::string(" in time") : ": " + error));
}

}  // namespace sluice::discovery
