// Unary and ClientStream: calls with a single response.
#include <chrono>

#include "call_support.h"
#include "calls.h"

namespace sluice::testserver {
namespace {

const grpc::Status kCancelled(grpc::StatusCode::CANCELLED, "cancelled");

// Finishes a single-response call as `params` asks: a non-OK status (after the headers unless
// Trailers-Only was asked for), else one response. A template because the unary and the read
// reactor share these members but no base class.
template <class Reactor>
void finish_single(Reactor* reactor, const CallRequest& params, ServiceEnv& env,
                   CallResponse* response) {
  const grpc::Status status = requested_status(params);
  if (!status.ok()) {
    if (!wants_trailers_only(params)) reactor->StartSendInitialMetadata();
    reactor->Finish(status);
    return;
  }
  fill_response(params, env.id(), 0, response);
  env.stats.message_sent(response->payload().size());
  reactor->Finish(grpc::Status::OK);
}

class UnaryCall final : public CountedCall<grpc::ServerUnaryReactor> {
 public:
  UnaryCall(ServiceEnv& env, grpc::CallbackServerContext* ctx, const CallRequest* request,
            CallResponse* response)
      : CountedCall(env, "Unary"),
        request_(*request),
        response_(response),
        failing_(env_.should_fail()) {
    // A --fail-share failure answers Trailers-Only, as a server that fails before sending
    // anything does (and as gRFC A6 needs to retry it: headers would commit the call).
    add_call_metadata(ctx, env_.id(), wants_trailers_only(request_) || failing_);
    const auto delay = std::chrono::milliseconds(request_.delay_ms()) + env_.extra_delay;
    if (delay.count() == 0) {
      respond(true);
    } else {
      timer_.after(delay, [this](bool ok) { respond(ok); });
    }
  }

 private:
  void respond(bool ok) {
    if (!ok) {
      Finish(kCancelled);
      return;
    }
    if (failing_) {
      Finish(grpc::Status(static_cast<grpc::StatusCode>(env_.fail_code), "failed by --fail-share"));
      return;
    }
    finish_single(this, request_, env_, response_);
  }

  const CallRequest& request_;  // owned by gRPC until OnDone
  CallResponse* response_;
  const bool failing_;
};

// Reads every request (paced as the first one asks), then answers once with the parameters of
// the first request, the payload bytes received in request_bytes and their request_digest.
class ClientStreamCall final : public CountedCall<grpc::ServerReadReactor<CallRequest>> {
 public:
  ClientStreamCall(ServiceEnv& env, grpc::CallbackServerContext* ctx, CallResponse* response)
      : CountedCall(env, "ClientStream"), ctx_(ctx), response_(response) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (ok) {
      env_.stats.message_received(request_.payload().size());
      request_bytes_ += request_.payload().size();
      digest_ = fnv1a(digest_, request_.payload());
      if (!have_params_) {
        params_ = std::move(request_);
        have_params_ = true;
      }
      read_next();
      return;
    }
    // The client half-closed (or the call died; then writing fails and OnCancel ran).
    response_->set_request_bytes(request_bytes_);
    response_->set_request_digest(digest_);
    add_call_metadata(ctx_, env_.id(), wants_trailers_only(params_));
    if (params_.delay_ms() == 0) {
      respond(true);
    } else {
      timer_.after(std::chrono::milliseconds(params_.delay_ms()), [this](bool ok) { respond(ok); });
    }
  }

 private:
  void respond(bool ok);
  void read_next() { read_after(read_wait(params_, ++reads_), &request_); }

  grpc::CallbackServerContext* ctx_;
  CallResponse* response_;
  CallRequest request_;
  CallRequest params_;
  bool have_params_ = false;
  uint64_t request_bytes_ = 0;
  uint64_t digest_ = kFnvOffset;
  uint64_t reads_ = 0;
};

void ClientStreamCall::respond(bool ok) {
  if (!ok) {
    Finish(kCancelled);
    return;
  }
  finish_single(this, params_, env_, response_);
}

}  // namespace

grpc::ServerUnaryReactor* start_unary(ServiceEnv& env, grpc::CallbackServerContext* ctx,
                                      const CallRequest* request, CallResponse* response) {
  return new UnaryCall(env, ctx, request, response);
}

grpc::ServerReadReactor<CallRequest>* start_client_stream(ServiceEnv& env,
                                                          grpc::CallbackServerContext* ctx,
                                                          CallResponse* response) {
  return new ClientStreamCall(env, ctx, response);
}

}  // namespace sluice::testserver
