// Pieces shared by the call handlers: metadata echo, response payloads, requested status, and a
// cancellable timer that needs no thread of its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>

#include <grpcpp/alarm.h>
#include <grpcpp/server_context.h>

#include "payload_pattern.h"
#include "service_env.h"
#include "sluice/test/v1/test.pb.h"

namespace sluice::testserver {

using sluice::test::v1::CallRequest;
using sluice::test::v1::CallResponse;

// Adds `x-backend-id` and the echo of every non-reserved client metadata key K (all values, in
// order) to the initial metadata, and "x-trailer-" + K plus `x-backend-id-trailer` to the
// trailing metadata. A Trailers-Only reply has no initial metadata (gRPC core only sends one
// when none was added), so then everything goes to the trailers.
void add_call_metadata(grpc::CallbackServerContext* ctx, std::string_view backend_id,
                       bool trailers_only);

// The reply is Trailers-Only when a non-OK status comes before any response.
inline bool wants_trailers_only(const CallRequest& req) {
  return req.status_code() != 0 && req.response_count() == 0;
}

// OK, or the status the request asked to finish with.
grpc::Status requested_status(const CallRequest& req);

// Fills payload (echo or `response_size` pattern bytes), backend_id and seq.
void fill_response(const CallRequest& req, std::string_view backend_id, uint64_t seq,
                   CallResponse* out);

// How long a stream reader waits before its next read once `reads` requests were read, as the
// call's first request asks (read_interval_ms; read_pause_ms once after read_pause_after).
inline std::chrono::milliseconds read_wait(const CallRequest& params, uint64_t reads) {
  if (params.read_pause_after() != 0 && reads == params.read_pause_after()) {
    return std::chrono::milliseconds(params.read_pause_ms());
  }
  return std::chrono::milliseconds(params.read_interval_ms());
}

// Runs a callback after a delay on gRPC's timer (grpc::Alarm), so thousands of delayed calls
// cost no threads. cancel() makes the pending callback (and any later one) run with false.
// The callback never runs inline in after() unless the timer was already cancelled.
class CallTimer {
 public:
  void after(std::chrono::milliseconds delay, std::function<void(bool)> fn);
  void cancel();

 private:
  std::mutex mu_;
  bool cancelled_ = false;
  // Shared so cancel() can call Cancel() outside the lock while after() replaces the alarm.
  std::shared_ptr<grpc::Alarm> alarm_;
};

// What every test-service call does alike: it is counted when it starts, when the client
// cancels it (which also stops its timer) and when it ends, and it deletes itself once gRPC is
// done with it. `Reactor` is the grpc++ callback reactor of the call's kind.
template <class Reactor>
class CountedCall : public Reactor {
 public:
  CountedCall(ServiceEnv& env, const char* method) : env_(env) { env_.stats.call_started(method); }
  void OnCancel() override {
    env_.stats.call_cancelled();
    timer_.cancel();
  }
  void OnDone() override {
    env_.stats.call_done();
    delete this;
  }

 protected:
  // Starts the next read after `wait` (a slow or paused reader); a cancelled wait finishes the
  // call. Only read reactors (ClientStream, BidiStream) use it.
  template <class Request>
  void read_after(std::chrono::milliseconds wait, Request* request) {
    if (wait.count() == 0) {
      this->StartRead(request);
      return;
    }
    timer_.after(wait, [this, request](bool ok) {
      if (ok) {
        this->StartRead(request);
      } else {
        this->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
      }
    });
  }

  ServiceEnv& env_;
  CallTimer timer_;
};

}  // namespace sluice::testserver
