// Deadlines: the proxy enforces grpc-timeout (and route timeouts) itself, cancels the backend's
// stream at expiry, and forwards what is left of the deadline.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "integration/raw_h2_client.h"
#include "integration/sluice_process.h"
#include "sluice/test/v1/test.grpc.pb.h"
#include "support/grpc_helpers.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using sluice::test::v1::CallRequest;
using sluice::test::v1::CallResponse;
using Clock = std::chrono::steady_clock;
constexpr auto kUnary = "/sluice.test.v1.TestService/Unary";

std::string sleeping_request(uint32_t ms) {
  CallRequest req;
  req.set_delay_ms(ms);
  return req.SerializeAsString();
}

RawHeaders grpc_headers(const std::string& timeout, const char* path = kUnary) {
  RawHeaders h = {{":method", "POST"},
                  {":scheme", "http"},
                  {":path", path},
                  {":authority", "t"},
                  {"content-type", "application/grpc"},
                  {"te", "trailers"}};
  if (!timeout.empty()) h.emplace_back("grpc-timeout", timeout);
  return h;
}

std::string framed(const std::string& message) {
  std::string f(5, '\0');
  f[3] = static_cast<char>((message.size() >> 8) & 0xff);
  f[4] = static_cast<char>(message.size() & 0xff);
  return f + message;
}

class ProxyDeadlineTest : public ::testing::Test {
 protected:
  void start(const std::string& route_extra = "") {
    auto s = TestServer::start("d0");
    ASSERT_TRUE(s) << s.error();
    backend_ = std::make_unique<TestServer>(std::move(*s));
    std::string yaml = SluiceProcess::simple_config({backend_->address()});
    if (!route_extra.empty()) {
      const std::string anchor = "    cluster: backends\n";
      yaml.insert(yaml.find(anchor) + anchor.size(), route_extra);
    }
    auto p = SluiceProcess::start(yaml);
    ASSERT_TRUE(p) << p.error();
    proxy_ = std::make_unique<SluiceProcess>(std::move(*p));
  }
  // Every scenario leaves the flow-control books balanced (SluiceProcess::flow_imbalance).
  void TearDown() override {
    if (proxy_ && proxy_->process().running()) {
      EXPECT_EQ(proxy_->flow_imbalance(), "");
    }
  }
  std::unique_ptr<TestServer> backend_;
  std::unique_ptr<SluiceProcess> proxy_;
};

TEST_F(ProxyDeadlineTest, ProxyEnforcesTheDeadlineAndCancelsUpstream) {
  start();
  // A raw client has no deadline timer of its own: what it sees is the proxy's doing.
  const auto sent = Clock::now();
  auto r =
      raw_h2_request(proxy_->address(), grpc_headers("50m"), framed(sleeping_request(1000)), 5s);
  const auto elapsed = Clock::now() - sent;
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->header("grpc-status"), "4") << r->header("grpc-message");
  EXPECT_GE(elapsed, 50ms);
  EXPECT_LT(elapsed, 60ms);
  // The backend saw the cancellation.
  for (int i = 0; i < 100; ++i) {
    auto stats = backend_->stats();
    ASSERT_TRUE(stats) << stats.error();
    if (stats->calls_cancelled() == 1) return;
    std::this_thread::sleep_for(5ms);
  }
  FAIL() << "the backend never saw the cancellation";
}

TEST_F(ProxyDeadlineTest, DeadlineBetweenStreamedMessagesEndsWithTrailers) {
  start();
  // A server stream sends a message every 100 ms; the deadline (300 ms) falls between two.
  // The response has begun, but trailers can still say DEADLINE_EXCEEDED: no reset.
  CallRequest req;
  req.set_response_count(20);
  req.set_message_interval_ms(100);
  const auto sent = Clock::now();
  auto r = raw_h2_request(proxy_->address(),
                          grpc_headers("300m", "/sluice.test.v1.TestService/ServerStream"),
                          framed(req.SerializeAsString()), 5s);
  const auto elapsed = Clock::now() - sent;
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->rst_code, 0xffffffffu) << "the stream was reset";
  EXPECT_FALSE(r->first_headers_end_stream);
  EXPECT_EQ(r->header("grpc-status"), "4") << r->header("grpc-message");
  // The proxy's timer ("deadline exceeded after") or the backend's, set from the grpc-timeout
  // the proxy forwarded ("Deadline Exceeded"): both fire at the same instant, so either may win
  // (under ASan the backend's often does). Either way the client gets trailers, not a reset.
  const std::string message = r->header("grpc-message");
  EXPECT_TRUE(message.find("deadline exceeded after") != std::string::npos ||
              message == "Deadline Exceeded")
      << message;
  EXPECT_FALSE(r->body.empty()) << "messages before the deadline came through";
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 1s);
}

TEST_F(ProxyDeadlineTest, BackendGetsTheClientsTimeoutLessTheTimeSpent) {
  start();
  auto r = raw_h2_request(proxy_->address(), grpc_headers("2000m"), framed(""), 5s);
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(r->header("grpc-status"), "0");
  const long remaining_us = std::stol(r->header("x-deadline-remaining-us"));
  EXPECT_LT(remaining_us, 2'000'000);
  EXPECT_GT(remaining_us, 1'500'000);
}

TEST_F(ProxyDeadlineTest, GrpcClientGetsTheProxysDeadlineExceeded) {
  // The grpc++ client allows 10 s; the route caps it at 100 ms. DEADLINE_EXCEEDED after
  // ~100 ms can only be the proxy's doing: either its own timer fired ("deadline exceeded
  // after") or the backend's, set from the capped grpc-timeout the proxy forwarded ("Deadline
  // Exceeded"). The two fire within microseconds of each other, so either may win.
  start("    max_timeout: 100ms\n");
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy_->address()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  CallRequest req;
  req.set_delay_ms(5000);
  CallResponse resp;
  const auto sent = Clock::now();
  auto status = stub->Unary(&ctx, req, &resp);
  const auto elapsed = Clock::now() - sent;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  const std::string& message = status.error_message();
  EXPECT_TRUE(message.find("deadline exceeded after") != std::string::npos ||
              message == "Deadline Exceeded")
      << message;
  EXPECT_GE(elapsed, 100ms);
  EXPECT_LT(elapsed, 2s);
  for (int i = 0; i < 200; ++i) {  // and the backend's call was cancelled
    auto stats = backend_->stats();
    ASSERT_TRUE(stats) << stats.error();
    if (stats->calls_cancelled() == 1) return;
    std::this_thread::sleep_for(10ms);
  }
  FAIL() << "the backend never saw the cancellation";
}

TEST_F(ProxyDeadlineTest, RouteTimeoutAppliesWhenClientSendsNone) {
  start("    timeout: 100ms\n");
  const auto sent = Clock::now();
  auto r = raw_h2_request(proxy_->address(), grpc_headers(""), framed(sleeping_request(1000)), 5s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->header("grpc-status"), "4");
  EXPECT_LT(Clock::now() - sent, 300ms);
  // A call that finishes in time is untouched, and the backend was told the route's deadline.
  auto ok = raw_h2_request(proxy_->address(), grpc_headers(""), framed(sleeping_request(0)), 5s);
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(ok->header("grpc-status"), "0");
  const long remaining_us = std::stol(ok->header("x-deadline-remaining-us"));
  EXPECT_LE(remaining_us, 100'000);
  EXPECT_GT(remaining_us, 50'000);
}

TEST_F(ProxyDeadlineTest, MaxTimeoutCapsTheClientsDeadline) {
  start("    max_timeout: 100ms\n");
  const auto sent = Clock::now();
  auto r =
      raw_h2_request(proxy_->address(), grpc_headers("10S"), framed(sleeping_request(1000)), 5s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->header("grpc-status"), "4");
  EXPECT_LT(Clock::now() - sent, 300ms);
}

TEST_F(ProxyDeadlineTest, NoDeadlineMeansNoCut) {
  start();  // no route timeout, client sends none: a 1.5 s call must simply finish
  auto r = raw_h2_request(proxy_->address(), grpc_headers(""), framed(sleeping_request(1500)), 5s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->header("grpc-status"), "0");
  EXPECT_EQ(r->header("x-deadline-remaining-us"), "") << "no deadline was invented";
}

TEST_F(ProxyDeadlineTest, MalformedGrpcTimeoutIsAClearError) {
  start();
  for (const char* bad : {"123456789S", "10x", "S", "-5m"}) {
    auto r = raw_h2_request(proxy_->address(), grpc_headers(bad), framed(""), 5s);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->header("grpc-status"), "13") << bad;
    EXPECT_NE(r->header("grpc-message").find("grpc-timeout"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace sluice::testing
