// Connection lifetime: backends that rotate their connections (max connection age + GOAWAY)
// under steady load must not fail a single call going through the proxy.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>
#include <vector>

#include "integration/async_calls.h"
#include "integration/recording_load.h"
#include "integration/sluice_process.h"
#include "integration/wait_until.h"
#include "sluice/test/v1/test.grpc.pb.h"
#include "support/grpc_helpers.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using sluice::test::v1::CallRequest;
using sluice::test::v1::CallResponse;
using Clock = std::chrono::steady_clock;

// Steady load for `duration`: how many calls succeeded, and every failure.
struct LoadResult {
  size_t ok = 0;
  std::vector<std::string> failures;
};
LoadResult steady_load(const std::shared_ptr<grpc::Channel>& channel, int threads,
                       std::chrono::milliseconds duration, uint32_t delay_ms) {
  RecordingLoad load(channel, threads, delay_ms);
  std::this_thread::sleep_for(duration);
  load.stop();
  return {load.succeeded(), load.failures()};
}

TEST(ProxyLifetime, BackendsRotatingConnectionsLoseNoCall) {
  std::vector<TestServer> backends;
  std::vector<std::string> addresses;
  for (const char* id : {"r0", "r1", "r2"}) {
    auto s =
        TestServer::start(id, {"--max-connection-age", "1s", "--max-connection-age-grace", "10s"});
    ASSERT_TRUE(s) << s.error();
    addresses.push_back(s->address());
    backends.push_back(std::move(*s));
  }
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config(addresses));
  ASSERT_TRUE(proxy) << proxy.error();
  auto channel = make_channel(proxy->address());
  auto result = steady_load(channel, 16, 30s, 20);  // 30 s of load, as the lifetime issue asks
  EXPECT_GT(result.ok, 5000u);
  for (const auto& f : result.failures) ADD_FAILURE() << f;
  // The backends did rotate: more connections were opened than the pool needs at once.
  EXPECT_GE(proxy->metric("sluice_upstream_connections_opened_total{cluster=\"backends\","
                          "endpoint=\"" +
                          addresses[0] + "\"}"),
            4);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyLifetime, OwnMaxConnectionAgeMovesClientsWithoutFailures) {
  auto backend = TestServer::start("m0");
  ASSERT_TRUE(backend) << backend.error();
  std::string yaml = SluiceProcess::simple_config({backend->address()});
  const std::string anchor = "    address: 127.0.0.1:0\n";
  yaml.insert(yaml.find(anchor) + anchor.size(), "    max_connection_age: 2s\n");
  auto proxy = SluiceProcess::start(yaml);
  ASSERT_TRUE(proxy) << proxy.error();
  auto result = steady_load(make_channel(proxy->address()), 16, 10s, 20);
  EXPECT_GT(result.ok, 1000u);
  for (const auto& f : result.failures) ADD_FAILURE() << f;
  auto metrics = proxy->admin_get("/metrics");
  ASSERT_TRUE(metrics) << metrics.error();
  const std::string key = "\nsluice_downstream_connections_total ";
  auto at = metrics->find(key);
  ASSERT_NE(at, std::string::npos);
  EXPECT_GE(std::stoi(metrics->substr(at + key.size())), 4) << "the client reconnected";
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyLifetime, ThousandCallsInFlightWhileBackendSendsGoawayAreNotLost) {
  // The backend sends GOAWAY 500 ms into the connection's life while 1000 calls of 1.5 s are
  // in flight on it: they finish (grace 10 s), and calls after the GOAWAY use a new connection.
  auto backend = TestServer::start(
      "g0", {"--max-connection-age", "500ms", "--max-connection-age-grace", "10s"});
  ASSERT_TRUE(backend) << backend.error();
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config({backend->address()}));
  ASSERT_TRUE(proxy) << proxy.error();
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy->address()));
  AsyncUnaryCalls calls;
  CallRequest req;
  req.set_delay_ms(1500);
  calls.start(*stub, req, 1000, 30s);
  const std::string endpoint = "{cluster=\"backends\",endpoint=\"" + backend->address() + "\"}";
  ASSERT_TRUE(wait_until([&] {
    return proxy->metric("sluice_upstream_goaways_total" + endpoint) >= 1;
  })) << "the backend's GOAWAY never came";
  // The GOAWAY came while the 1000 calls were still running on that connection.
  EXPECT_GT(proxy->metric("sluice_endpoint_calls_in_flight" + endpoint), 0);
  calls.start(*stub, req, 200, 30s);
  int failed = 0;
  for (const auto& r : calls.rest()) {
    if (!r.status.ok() && ++failed <= 5) {
      ADD_FAILURE() << r.status.error_code() << " " << r.status.error_message();
    }
  }
  EXPECT_EQ(failed, 0);
  // The calls after the GOAWAY went over a new connection, and the backend ran all 1200.
  EXPECT_GE(proxy->metric("sluice_upstream_connections_opened_total" + endpoint), 2);
  auto stats = backend->stats();
  ASSERT_TRUE(stats) << stats.error();
  EXPECT_EQ(stats->calls_total(), 1200u);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyLifetime, UpstreamMaxConnectionAgeRotatesWithoutFailures) {
  auto backend = TestServer::start("u0");
  ASSERT_TRUE(backend) << backend.error();
  std::string yaml = SluiceProcess::simple_config({backend->address()});
  yaml += "    max_connection_age: 500ms\n";
  auto proxy = SluiceProcess::start(yaml);
  ASSERT_TRUE(proxy) << proxy.error();
  auto result = steady_load(make_channel(proxy->address()), 8, 3s, 10);
  EXPECT_GT(result.ok, 500u);
  for (const auto& f : result.failures) ADD_FAILURE() << f;
  EXPECT_GE(proxy->metric("sluice_upstream_connections_opened_total{cluster=\"backends\","
                          "endpoint=\"" +
                          backend->address() + "\"}"),
            4)
      << "connections rotated";
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyLifetime, KeepaliveDetectsAFrozenBackend) {
  // A stopped (SIGSTOP) backend keeps its sockets open but answers nothing: without keepalive
  // its calls would hang; with it they end with UNAVAILABLE within keepalive time + timeout.
  auto backend = TestServer::start("k0");
  ASSERT_TRUE(backend) << backend.error();
  std::string yaml = SluiceProcess::simple_config({backend->address()});
  yaml += "    keepalive_time: 200ms\n    keepalive_timeout: 300ms\n";
  auto proxy = SluiceProcess::start(yaml);
  ASSERT_TRUE(proxy) << proxy.error();
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy->address()));
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    CallRequest req;
    CallResponse resp;
    ASSERT_TRUE(stub->Unary(&ctx, req, &resp).ok());
  }
  ASSERT_TRUE(backend->process().send_signal(SIGSTOP));
  // The signal is delivered asynchronously: wait until the backend is really stopped (state
  // T), or the call may still be answered.
  bool stopped = false;
  for (int i = 0; i < 200 && !stopped; ++i) {
    std::ifstream stat("/proc/" + std::to_string(backend->process().pid()) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto paren = text.rfind(')');
    stopped = paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'T';
    if (!stopped) std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(stopped) << "the backend did not stop";
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  CallRequest req;
  CallResponse resp;
  const auto sent = Clock::now();
  auto status = stub->Unary(&ctx, req, &resp);
  const auto took = Clock::now() - sent;
  backend->process().send_signal(SIGCONT);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_LT(took, 2s);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

}  // namespace
}  // namespace sluice::testing
