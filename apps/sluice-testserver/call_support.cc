#include "call_support.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

namespace sluice::testserver {
namespace {

bool is_reserved_key(std::string_view key) {
  return key.empty() || key.front() == ':' || key.starts_with("grpc-") || key == "te" ||
         key == "content-type" || key == "user-agent" || key == "host";
}

}  // namespace

void add_call_metadata(grpc::CallbackServerContext* ctx, std::string_view backend_id,
                       bool trailers_only) {
  const std::string id(backend_id);
  auto add_leading = [&](const std::string& key, const std::string& value) {
    if (trailers_only) {
      ctx->AddTrailingMetadata(key, value);
    } else {
      ctx->AddInitialMetadata(key, value);
    }
  };
  add_leading("x-backend-id", id);
  // The deadline this call arrived with, so tests can see what a proxy propagated.
  const auto remaining = ctx->deadline() - std::chrono::system_clock::now();
  if (ctx->deadline() != std::chrono::system_clock::time_point::max()) {
    add_leading(
        "x-deadline-remaining-us",
        std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(remaining).count()));
  }
  // A multimap keeps the values of one key in arrival order.
  for (const auto& [key_ref, value_ref] : ctx->client_metadata()) {
    const std::string key(key_ref.data(), key_ref.size());
    if (is_reserved_key(key)) continue;
    const std::string value(value_ref.data(), value_ref.size());
    add_leading(key, value);
    ctx->AddTrailingMetadata("x-trailer-" + key, value);
  }
  ctx->AddTrailingMetadata("x-backend-id-trailer", id);
}

grpc::Status requested_status(const CallRequest& req) {
  if (req.status_code() == 0) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(req.status_code()), req.status_message());
}

void fill_response(const CallRequest& req, std::string_view backend_id, uint64_t seq,
                   CallResponse* out) {
  if (req.echo_payload()) {
    out->set_payload(req.payload());
  } else {
    fill_pattern(req.response_size(), out->mutable_payload());
  }
  out->set_backend_id(std::string(backend_id));
  out->set_seq(seq);
}

void CallTimer::after(std::chrono::milliseconds delay, std::function<void(bool)> fn) {
  std::unique_lock lock(mu_);
  if (cancelled_) {
    lock.unlock();
    fn(false);
    return;
  }
  // A fresh alarm each time: the previous one has fired (its callback led here).
  alarm_ = std::make_shared<grpc::Alarm>();
  alarm_->Set(std::chrono::system_clock::now() + delay, std::move(fn));
}

void CallTimer::cancel() {
  std::shared_ptr<grpc::Alarm> alarm;
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    alarm = alarm_;
  }
  if (alarm) alarm->Cancel();
}

}  // namespace sluice::testserver
