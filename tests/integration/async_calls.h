// Many unary calls in flight at once on one stub, for tests that act while they run (kill a
// backend, send SIGTERM, rotate connections) and then look at how each call ended.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <vector>

#include "sluice/test/v1/test.grpc.pb.h"

namespace sluice::testing {

class AsyncUnaryCalls {
 public:
  struct Result {
    grpc::Status status;
    sluice::test::v1::CallResponse response;
  };

  // Starts `count` calls of `request`, each with a deadline `timeout` from now.
  void start(sluice::test::v1::TestService::Stub& stub,
             const sluice::test::v1::CallRequest& request, int count,
             std::chrono::milliseconds timeout) {
    for (int i = 0; i < count; ++i) {
      auto call = std::make_unique<Call>();
      call->ctx.set_deadline(std::chrono::system_clock::now() + timeout);
      stub.AsyncUnary(&call->ctx, request, &cq_)
          ->Finish(&call->result.response, &call->result.status, call.get());
      calls_.push_back(std::move(call));
    }
  }
  // The next call to finish, in completion order.
  Result next() {
    void* tag = nullptr;
    bool ok = false;
    cq_.Next(&tag, &ok);
    ++finished_;
    return static_cast<Call*>(tag)->result;
  }
  // Every call not yet returned by next().
  std::vector<Result> rest() {
    std::vector<Result> results;
    while (finished_ < calls_.size()) results.push_back(next());
    return results;
  }

 private:
  struct Call {
    grpc::ClientContext ctx;
    Result result;
  };
  grpc::CompletionQueue cq_;
  std::vector<std::unique_ptr<Call>> calls_;
  size_t finished_ = 0;
};

}  // namespace sluice::testing
