// sluice.test.v1.TestService on the grpc++ callback API.
#pragma once

#include "service_env.h"
#include "sluice/test/v1/test.grpc.pb.h"

namespace sluice::testserver {

class TestServiceImpl final : public sluice::test::v1::TestService::CallbackService {
 public:
  explicit TestServiceImpl(ServiceEnv& env) : env_(env) {}

  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx,
                                  const sluice::test::v1::CallRequest* request,
                                  sluice::test::v1::CallResponse* response) override;
  grpc::ServerWriteReactor<sluice::test::v1::CallResponse>* ServerStream(
      grpc::CallbackServerContext* ctx, const sluice::test::v1::CallRequest* request) override;
  grpc::ServerReadReactor<sluice::test::v1::CallRequest>* ClientStream(
      grpc::CallbackServerContext* ctx, sluice::test::v1::CallResponse* response) override;
  grpc::ServerBidiReactor<sluice::test::v1::CallRequest, sluice::test::v1::CallResponse>*
  BidiStream(grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* Stats(grpc::CallbackServerContext* ctx,
                                  const sluice::test::v1::StatsRequest* request,
                                  sluice::test::v1::StatsResponse* response) override;
  grpc::ServerUnaryReactor* SetHealth(grpc::CallbackServerContext* ctx,
                                      const sluice::test::v1::SetHealthRequest* request,
                                      sluice::test::v1::SetHealthResponse* response) override;

 private:
  ServiceEnv& env_;
};

}  // namespace sluice::testserver
