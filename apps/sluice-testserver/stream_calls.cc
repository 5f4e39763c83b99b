// ServerStream and BidiStream: calls with a stream of responses. Each keeps at most one write
// in flight (gRPC flow control then paces the server to the reader).
#include <algorithm>
#include <chrono>

#include "call_support.h"
#include "calls.h"

namespace sluice::testserver {
namespace {

const grpc::Status kCancelled(grpc::StatusCode::CANCELLED, "cancelled");

// Sends response_count messages (delay_ms before the first, message_interval_ms between), then
// finishes with the requested status.
class ServerStreamCall final : public CountedCall<grpc::ServerWriteReactor<CallResponse>> {
 public:
  ServerStreamCall(ServiceEnv& env, grpc::CallbackServerContext* ctx, const CallRequest* request)
      : CountedCall(env, "ServerStream"), request_(*request) {
    add_call_metadata(ctx, env_.id(), wants_trailers_only(request_));
    wait_then_step(request_.delay_ms());
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(kCancelled);
      return;
    }
    env_.stats.message_sent(response_.payload().size());
    ++sent_;
    if (sent_ < request_.response_count()) {
      wait_then_step(request_.message_interval_ms());
    } else {
      step(true);
    }
  }

 private:
  void wait_then_step(uint32_t ms) {
    if (ms == 0) {
      step(true);
    } else {
      timer_.after(std::chrono::milliseconds(ms), [this](bool ok) { step(ok); });
    }
  }

  // Writes the next message or finishes; nothing touches members after StartWrite/Finish.
  void step(bool ok) {
    if (!ok) {
      Finish(kCancelled);
    } else if (sent_ < request_.response_count()) {
      fill_response(request_, env_.id(), sent_, &response_);
      StartWrite(&response_);
    } else {
      Finish(requested_status(request_));
    }
  }

  const CallRequest& request_;  // owned by gRPC until OnDone
  CallResponse response_;       // must live until its OnWriteDone
  uint32_t sent_ = 0;
};

// Answers every request with response_count (at least 1) messages, then reads the next one.
// A request with a status_code ends the call with it; the client's half-close ends it with OK.
class BidiStreamCall final
    : public CountedCall<grpc::ServerBidiReactor<CallRequest, CallResponse>> {
 public:
  BidiStreamCall(ServiceEnv& env, grpc::CallbackServerContext* ctx)
      : CountedCall(env, "BidiStream") {
    add_call_metadata(ctx, env_.id(), /*trailers_only=*/false);
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    env_.stats.message_received(request_.payload().size());
    if (reads_++ == 0) pacing_ = request_;  // the first request sets the read pacing
    round_size_ = std::max<uint32_t>(1, request_.response_count());
    sent_in_round_ = 0;
    wait_then_step(request_.delay_ms());
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(kCancelled);
      return;
    }
    env_.stats.message_sent(response_.payload().size());
    ++seq_;
    ++sent_in_round_;
    if (sent_in_round_ < round_size_) {
      wait_then_step(request_.message_interval_ms());
    } else {
      step(true);
    }
  }

 private:
  void wait_then_step(uint32_t ms) {
    if (ms == 0) {
      step(true);
    } else {
      timer_.after(std::chrono::milliseconds(ms), [this](bool ok) { step(ok); });
    }
  }

  void step(bool ok) {
    if (!ok) {
      Finish(kCancelled);
    } else if (sent_in_round_ < round_size_) {
      fill_response(request_, env_.id(), seq_, &response_);
      StartWrite(&response_);
    } else if (request_.status_code() != 0) {
      Finish(requested_status(request_));
    } else {
      read_next();
    }
  }

  void read_next() { read_after(read_wait(pacing_, reads_), &request_); }

  CallRequest request_;
  CallRequest pacing_;  // read_interval_ms, read_pause_after, read_pause_ms
  uint64_t reads_ = 0;
  CallResponse response_;
  uint64_t seq_ = 0;
  uint32_t round_size_ = 0;
  uint32_t sent_in_round_ = 0;
};

}  // namespace

grpc::ServerWriteReactor<CallResponse>* start_server_stream(ServiceEnv& env,
                                                            grpc::CallbackServerContext* ctx,
                                                            const CallRequest* request) {
  return new ServerStreamCall(env, ctx, request);
}

grpc::ServerBidiReactor<CallRequest, CallResponse>* start_bidi_stream(
    ServiceEnv& env, grpc::CallbackServerContext* ctx) {
  return new BidiStreamCall(env, ctx);
}

}  // namespace sluice::testserver
