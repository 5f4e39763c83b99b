// --health check-only: grpc.health.v1 with Check alone (Watch answers UNIMPLEMENTED), as
// servers that predate Watch do. Statuses are set like the default service's.
#pragma once

#include <grpcpp/health_check_service_interface.h>

#include <map>
#include <mutex>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"

namespace sluice::testserver {

class CheckOnlyHealth final : public grpc::HealthCheckServiceInterface,
                              public grpc::health::v1::Health::CallbackService {
 public:
  void SetServingStatus(const std::string& service, bool serving) override;
  void SetServingStatus(bool serving) override;  // every service set so far
  void Shutdown() override;                      // NOT_SERVING from now on

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::health::v1::HealthCheckResponse* response) override;

 private:
  std::mutex mu_;
  std::map<std::string, bool> serving_;  // by service ("" = the server)
  bool shut_down_ = false;
};

}  // namespace sluice::testserver
