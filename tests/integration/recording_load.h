// Closed-loop unary callers on one channel that remember when each call ended and on which
// backend, for tests that change something under load and then look at who got what.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sluice/test/v1/test.grpc.pb.h"

namespace sluice::testing {

class RecordingLoad {
 public:
  using Clock = std::chrono::steady_clock;

  // `threads` callers, each call asking the backend to take `delay_ms`.
  RecordingLoad(const std::shared_ptr<grpc::Channel>& channel, int threads, uint32_t delay_ms)
      : stub_(sluice::test::v1::TestService::NewStub(channel)) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, delay_ms] {
        while (!stop_) {
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
          sluice::test::v1::CallRequest req;
          req.set_delay_ms(delay_ms);
          sluice::test::v1::CallResponse resp;
          auto status = stub_->Unary(&ctx, req, &resp);
          std::lock_guard lock(mu_);
          if (status.ok()) {
            calls_.push_back({Clock::now(), resp.backend_id()});
          } else {
            failures_.push_back(std::to_string(status.error_code()) + " " + status.error_message());
          }
        }
      });
    }
  }
  ~RecordingLoad() { stop(); }

  void stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  // Successful calls per backend that ended in [from, to).
  std::map<std::string, int> between(Clock::time_point from, Clock::time_point to) {
    std::lock_guard lock(mu_);
    std::map<std::string, int> out;
    for (const auto& c : calls_) {
      if (c.at >= from && c.at < to) ++out[c.backend];
    }
    return out;
  }
  std::map<std::string, int> counts() { return between(Clock::time_point::min(), Clock::now()); }
  size_t succeeded() {
    std::lock_guard lock(mu_);
    return calls_.size();
  }
  std::vector<std::string> failures() {
    std::lock_guard lock(mu_);
    return failures_;
  }

 private:
  struct Done {
    Clock::time_point at;
    std::string backend;
  };
  std::unique_ptr<sluice::test::v1::TestService::Stub> stub_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Done> calls_;
  std::vector<std::string> failures_;
};

// Checks that each backend n<first>..n<count-1> got at least 80% of its fair share (1/count)
// of the calls in `window` (from RecordingLoad::between), which must hold over 200 calls.
inline void expect_fair_share(std::map<std::string, int> window, int first, int count) {
  int total = 0;
  for (const auto& [id, n] : window) total += n;
  ASSERT_GT(total, 200) << "too few calls in the window to judge";
  for (int i = first; i < count; ++i) {
    const double share = static_cast<double>(window["n" + std::to_string(i)]) / total;
    EXPECT_GE(share, 0.8 / count) << "new backend n" << i << " got " << share;
  }
}

}  // namespace sluice::testing
