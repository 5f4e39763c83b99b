#include "test_service.h"

#include "call_support.h"
#include "calls.h"

namespace sluice::testserver {

using sluice::test::v1::CallRequest;
using sluice::test::v1::CallResponse;

grpc::ServerUnaryReactor* TestServiceImpl::Unary(grpc::CallbackServerContext* ctx,
                                                 const CallRequest* request,
                                                 CallResponse* response) {
  return start_unary(env_, ctx, request, response);
}

grpc::ServerWriteReactor<CallResponse>* TestServiceImpl::ServerStream(
    grpc::CallbackServerContext* ctx, const CallRequest* request) {
  return start_server_stream(env_, ctx, request);
}

grpc::ServerReadReactor<CallRequest>* TestServiceImpl::ClientStream(
    grpc::CallbackServerContext* ctx, CallResponse* response) {
  return start_client_stream(env_, ctx, response);
}

grpc::ServerBidiReactor<CallRequest, CallResponse>* TestServiceImpl::BidiStream(
    grpc::CallbackServerContext* ctx) {
  return start_bidi_stream(env_, ctx);
}

grpc::ServerUnaryReactor* TestServiceImpl::Stats(grpc::CallbackServerContext* ctx,
                                                 const sluice::test::v1::StatsRequest* request,
                                                 sluice::test::v1::StatsResponse* response) {
  add_call_metadata(ctx, env_.id(), /*trailers_only=*/false);
  env_.stats.snapshot(request->reset(), response);
  response->set_backend_id(std::string(env_.id()));
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* TestServiceImpl::SetHealth(
    grpc::CallbackServerContext* ctx, const sluice::test::v1::SetHealthRequest* request,
    sluice::test::v1::SetHealthResponse* /*response*/) {
  add_call_metadata(ctx, env_.id(), /*trailers_only=*/false);
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  grpc::HealthCheckServiceInterface* health = env_.health.load(std::memory_order_acquire);
  if (health == nullptr) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "health service not ready"));
  } else {
    health->SetServingStatus(request->service(), request->serving());
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

}  // namespace sluice::testserver
