// Hot reload: SIGHUP or POST /reload re-reads the config; clusters and routes change for new
// calls without dropping connections or calls; a bad config is rejected and the old one serves.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "integration/recording_load.h"
#include "integration/sluice_process.h"
#include "sluice/test/v1/test.grpc.pb.h"
#include "support/grpc_helpers.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using sluice::test::v1::CallRequest;
using sluice::test::v1::CallResponse;

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* id : {"a", "b"}) {
      auto s = TestServer::start(id);
      ASSERT_TRUE(s) << s.error();
      backends_.push_back(std::move(*s));
    }
    auto p = SluiceProcess::start(SluiceProcess::simple_config({backends_[0].address()}));
    ASSERT_TRUE(p) << p.error();
    proxy_ = std::make_unique<SluiceProcess>(std::move(*p));
    channel_ = make_channel(proxy_->address());
    stub_ = sluice::test::v1::TestService::NewStub(channel_);
  }

  std::vector<TestServer> backends_;
  std::unique_ptr<SluiceProcess> proxy_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<sluice::test::v1::TestService::Stub> stub_;
};

TEST_F(ReloadTest, ClustersChangeUnderLoadWithoutAFailedCall) {
  RecordingLoad load(channel_, 8, 5);
  std::this_thread::sleep_for(500ms);
  // Add endpoint b (SIGHUP).
  proxy_->rewrite_config(
      SluiceProcess::simple_config({backends_[0].address(), backends_[1].address()}));
  ASSERT_TRUE(proxy_->process().send_signal(SIGHUP));
  std::this_thread::sleep_for(1000ms);
  auto mid = load.counts();
  EXPECT_GT(mid["b"], 0) << "the added endpoint gets calls after the reload";
  // Remove endpoint a (POST /reload).
  proxy_->rewrite_config(SluiceProcess::simple_config({backends_[1].address()}));
  auto [status, body] = proxy_->admin_request("POST", "/reload");
  EXPECT_EQ(status, 200) << body;
  std::this_thread::sleep_for(200ms);
  const int a_after_removal = load.counts()["a"];
  std::this_thread::sleep_for(800ms);
  load.stop();
  EXPECT_EQ(load.counts()["a"], a_after_removal) << "a removed endpoint gets no new calls";
  EXPECT_GT(load.counts()["b"], mid["b"]);
  const auto failures = load.failures();
  for (size_t i = 0; i < failures.size() && i < 5; ++i) ADD_FAILURE() << failures[i];
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed calls";
  // Counters of the endpoint that stayed kept counting across both reloads.
  auto metrics = proxy_->admin_get("/metrics");
  ASSERT_TRUE(metrics) << metrics.error();
  EXPECT_NE(metrics->find(backends_[1].address()), std::string::npos);
}

TEST_F(ReloadTest, BadConfigIsRejectedAndTheOldOneKeepsServing) {
  proxy_->rewrite_config("listeners: [\n  this is not yaml\n");
  auto [status, body] = proxy_->admin_request("POST", "/reload");
  EXPECT_EQ(status, 400);
  EXPECT_NE(body.find("reload rejected"), std::string::npos) << body;
  ASSERT_TRUE(proxy_->process().send_signal(SIGHUP));  // also rejected, logged
  std::this_thread::sleep_for(100ms);
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    CallRequest req;
    CallResponse resp;
    auto s = stub_->Unary(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.backend_id(), "a");
  }
  // A valid config that changes the listeners needs a restart: rejected, named.
  std::string moved = SluiceProcess::simple_config({backends_[0].address()});
  moved.replace(moved.find("name: main"), 10, "name: other");
  proxy_->rewrite_config(moved);
  auto [status2, body2] = proxy_->admin_request("POST", "/reload");
  EXPECT_EQ(status2, 400);
  EXPECT_NE(body2.find("listeners"), std::string::npos) << body2;
}

}  // namespace
}  // namespace sluice::testing
