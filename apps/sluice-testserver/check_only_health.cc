#include "check_only_health.h"

namespace sluice::testserver {

using grpc::health::v1::HealthCheckResponse;

void CheckOnlyHealth::SetServingStatus(const std::string& service, bool serving) {
  std::lock_guard lock(mu_);
  serving_[service] = serving && !shut_down_;
}

void CheckOnlyHealth::SetServingStatus(bool serving) {
  std::lock_guard lock(mu_);
  for (auto& [_, s] : serving_) s = serving && !shut_down_;
}

void CheckOnlyHealth::Shutdown() {
  std::lock_guard lock(mu_);
  shut_down_ = true;
  for (auto& [_, s] : serving_) s = false;
}

grpc::ServerUnaryReactor* CheckOnlyHealth::Check(
    grpc::CallbackServerContext* ctx, const grpc::health::v1::HealthCheckRequest* request,
    HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  std::lock_guard lock(mu_);
  auto it = serving_.find(request->service());
  if (it == serving_.end()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service"));
    return reactor;
  }
  response->set_status(it->second ? HealthCheckResponse::SERVING
                                  : HealthCheckResponse::NOT_SERVING);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace sluice::testserver
