// The four TestService call handlers. Each returns a self-deleting reactor; all waits use
// CallTimer, and a stream writes its next message only after the previous write completed,
// so a slow reader slows the server down instead of filling its memory.
#pragma once

#include <grpcpp/support/server_callback.h>

#include "service_env.h"
#include "sluice/test/v1/test.pb.h"

namespace sluice::testserver {

using sluice::test::v1::CallRequest;
using sluice::test::v1::CallResponse;

grpc::ServerUnaryReactor* start_unary(ServiceEnv& env, grpc::CallbackServerContext* ctx,
                                      const CallRequest* request, CallResponse* response);
grpc::ServerReadReactor<CallRequest>* start_client_stream(ServiceEnv& env,
                                                          grpc::CallbackServerContext* ctx,
                                                          CallResponse* response);
grpc::ServerWriteReactor<CallResponse>* start_server_stream(ServiceEnv& env,
                                                            grpc::CallbackServerContext* ctx,
                                                            const CallRequest* request);
grpc::ServerBidiReactor<CallRequest, CallResponse>* start_bidi_stream(
    ServiceEnv& env, grpc::CallbackServerContext* ctx);

}  // namespace sluice::testserver
