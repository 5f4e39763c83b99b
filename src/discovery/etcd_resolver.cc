#include "discovery/etcd_resolver.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/post.hpp>
#include <random>

#include "core/random.h"
#include "discovery/etcd_client.h"
#include "discovery/etcd_watch_state.h"
#include "etcd/rpc.grpc.pb.h"

namespace sluice::discovery {
namespace {

constexpr std::chrono::seconds kRangeTimeout{5};

std::string describe(const grpc::Status& status) {
  return "gRPC status " + std::to_string(static_cast<int>(status.error_code())) + ": " +
         status.error_message();
}

EtcdKeyValue from_proto(const mvccpb::KeyValue& kv) {
  return EtcdKeyValue{kv.key(), kv.value(), kv.mod_revision()};
}

std::vector<EtcdEvent> events_of(const etcdserverpb::WatchResponse& response) {
  std::vector<EtcdEvent> events;
  events.reserve(static_cast<size_t>(response.events_size()));
  for (const auto& ev : response.events()) {
    events.push_back(
        {ev.type() == mvccpb::Event::DELETE ? EtcdEvent::Type::kDelete : EtcdEvent::Type::kPut,
         from_proto(ev.kv())});
  }
  return events;
}

}  // namespace

EtcdResolver::EtcdResolver(asio::io_context& io, Options options)
    : io_(io),
      options_(std::move(options)),
      stop_(std::make_unique<StopSwitch>()),
      backoff_(options_.initial_backoff) {}

EtcdResolver::~EtcdResolver() {
  stop_->stop();
  if (thread_.joinable()) thread_.join();
}

void EtcdResolver::start(Callback on_update) {
  on_update_ = std::move(on_update);
  if (options_.endpoints.empty()) {
    deliver(Unexpected(source() + ": no etcd endpoints"));
    return;
  }
  thread_ = std::thread([this] { run(); });
}

std::string EtcdResolver::source() const {
  std::string out = "etcd:";
  for (size_t i = 0; i < options_.endpoints.size(); ++i) {
    if (i > 0) out += ",";
    out += options_.endpoints[i].to_string();
  }
  return out + options_.prefix;
}

void EtcdResolver::run() {
  core::FastRandom random(std::random_device{}());
  size_t member = 0;
  while (!stop_->stopped()) {
    std::string error;
    const WatchEnd end = sync(member, error);
    if (stop_->stopped()) break;
    if (end == WatchEnd::kCompacted) continue;  // read the range again, at once
    deliver(Unexpected(options_.endpoints[member].to_string() + ": " + error));
    error_reported_ = true;
    member = (member + 1) % options_.endpoints.size();
    const auto wait = core::jittered(backoff_, 0.2, random);
    backoff_ = std::min(options_.max_backoff,
                        std::chrono::duration_cast<std::chrono::milliseconds>(backoff_ * 1.6));
    stop_->sleep_for(wait);
  }
}

EtcdResolver::WatchEnd EtcdResolver::sync(size_t member, std::string& error) {
  auto channel = make_etcd_channel(options_.endpoints[member]);
  const std::string range_end = prefix_range_end(options_.prefix);

  if (state_.needs_range()) {
    auto kv = etcdserverpb::KV::NewStub(channel);
    etcdserverpb::RangeRequest request;
    request.set_key(options_.prefix);
    request.set_range_end(range_end);
    etcdserverpb::RangeResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kRangeTimeout);
    StopSwitch::Call call(*stop_, ctx);
    const grpc::Status status = kv->Range(&ctx, request, &response);
    if (!status.ok()) {
      error = "range: " + describe(status);
      return WatchEnd::kBroken;
    }
    std::vector<EtcdKeyValue> kvs;
    kvs.reserve(static_cast<size_t>(response.kvs_size()));
    for (const auto& item : response.kvs()) kvs.push_back(from_proto(item));
    publish(state_.reset(kvs, response.header().revision()));
  }

  auto watch = etcdserverpb::Watch::NewStub(channel);
  grpc::ClientContext ctx;
  // etcd then ends the stream when this member loses its leader (a partition), instead of
  // keeping a watch that no longer sees changes; we move on to the next member.
  ctx.AddMetadata("hasleader", "true");
  StopSwitch::Call call(*stop_, ctx);
  auto stream = watch->Watch(&ctx);
  etcdserverpb::WatchRequest request;
  auto* create = request.mutable_create_request();
  create->set_key(options_.prefix);
  create->set_range_end(range_end);
  create->set_start_revision(state_.resume_revision());
  spdlog::debug("{}: watching from revision {}", source(), state_.resume_revision());
  if (!stream->Write(request)) {
    error = "watch: " + describe(stream->Finish());
    return WatchEnd::kBroken;
  }
  etcdserverpb::WatchResponse response;
  while (stream->Read(&response)) {
    if (response.compact_revision() != 0) {
      spdlog::warn("{}: revision {} was compacted (oldest kept: {}), reading the range again",
                   source(), state_.resume_revision(), response.compact_revision());
      state_.compacted();
      ctx.TryCancel();
      stream->Finish();
      return WatchEnd::kCompacted;
    }
    if (response.canceled()) {
      error = "watch canceled by etcd: " + response.cancel_reason();
      ctx.TryCancel();
      stream->Finish();
      return WatchEnd::kBroken;
    }
    if (response.created()) {
      backoff_ = options_.initial_backoff;
      // Connected again: the set (unchanged or not) replaces the error shown meanwhile.
      if (error_reported_) publish({.changed = true, .errors = {}});
    }
    if (response.events_size() > 0) publish(state_.apply(events_of(response)));
  }
  error = "watch: " + describe(stream->Finish());
  return WatchEnd::kBroken;
}

void EtcdResolver::publish(const EtcdWatchState::Update& update) {
  if (update.changed || !delivered_) {
    deliver(state_.endpoints());
    delivered_ = true;
    error_reported_ = false;
  }
  // After the set: a bad key is counted and shown while the rest of the keys serve.
  for (const auto& e : update.errors) deliver(Unexpected(e));
}

void EtcdResolver::deliver(ResolveResult result) {
  asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), r = std::move(result)]() mutable {
    if (!alive.expired()) on_update_(std::move(r));
  });
}

Expected<std::unique_ptr<Resolver>, std::string> make_etcd_resolver(asio::io_context& io,
                                                                    const config::Discovery& d) {
  if (d.etcd_endpoints.empty()) return Unexpected(std::string("etcd: no endpoints"));
  if (d.prefix.empty()) return Unexpected(std::string("etcd: no prefix"));
  return std::unique_ptr<Resolver>(
      std::make_unique<EtcdResolver>(io, EtcdResolver::Options{d.etcd_endpoints, d.prefix}));
}

}  // namespace sluice::discovery
