// health::Probe against real sluice-testservers: Watch delivers a status change at once,
// Check is the fallback when Watch is UNIMPLEMENTED, and a missing health service, a closed
// port and a backend that never answers each fail a check the way an operator can read.
#include "health/health_probe.h"

#include <gtest/gtest.h>

#include <asio.hpp>
#include <chrono>
#include <vector>

#include "support/test_server.h"

namespace sluice::health {
namespace {

using namespace std::chrono_literals;
using testing::TestServer;
using Outcome = CheckResult::Outcome;

asio::ip::tcp::endpoint loopback(uint16_t port) {
  return {asio::ip::make_address("127.0.0.1"), port};
}

core::HealthCheckConfig config(std::chrono::milliseconds interval) {
  core::HealthCheckConfig c;
  c.interval = interval;
  c.timeout = 1000ms;
  return c;
}

// A probe on a test-owned event loop, with the results it reported.
struct ProbeRun {
  ProbeRun(asio::ip::tcp::endpoint target, const core::HealthCheckConfig& c)
      : probe(
            io.get_executor(), target, c, [this](const CheckResult& r) { results.push_back(r); },
            [c] { return c.interval; }) {
    probe.start(0ms);
  }
  // Runs the loop until `n` results arrived or `timeout` passed; whether they did.
  bool run_until_results(size_t n, std::chrono::milliseconds timeout = 5000ms) {
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    while (results.size() < n && std::chrono::steady_clock::now() < give_up) {
      io.run_one_for(10ms);
    }
    return results.size() >= n;
  }
  asio::io_context io;
  std::vector<CheckResult> results;
  Probe probe;
};

TEST(HealthProbe, WatchReportsAStatusChangeAtOnce) {
  auto server = TestServer::start("w");
  ASSERT_TRUE(server) << server.error();
  ProbeRun run(loopback(server->port()), config(60s));  // no interval tick during the test
  ASSERT_TRUE(run.run_until_results(1));
  EXPECT_EQ(run.results[0].outcome, Outcome::kPassed) << run.results[0].detail;
  EXPECT_TRUE(run.probe.uses_watch());
  const auto flipped = std::chrono::steady_clock::now();
  ASSERT_TRUE(server->set_health("", false));
  ASSERT_TRUE(run.run_until_results(2, 2000ms)) << "Watch did not announce NOT_SERVING";
  EXPECT_LT(std::chrono::steady_clock::now() - flipped, 1s);
  EXPECT_EQ(run.results[1].outcome, Outcome::kFailed);
  EXPECT_EQ(run.results[1].detail, "NOT_SERVING");
  ASSERT_TRUE(server->set_health("", true));
  ASSERT_TRUE(run.run_until_results(3, 2000ms));
  EXPECT_EQ(run.results[2].outcome, Outcome::kPassed);
}

TEST(HealthProbe, WatchStatusStandsForEveryInterval) {
  auto server = TestServer::start("s");
  ASSERT_TRUE(server) << server.error();
  ProbeRun run(loopback(server->port()), config(50ms));
  ASSERT_TRUE(run.run_until_results(6));
  for (const auto& r : run.results) EXPECT_EQ(r.outcome, Outcome::kPassed) << r.detail;
}

TEST(HealthProbe, ABackendRotatingItsConnectionsStaysHealthy) {
  // Every 300 ms the backend sends GOAWAY and cuts the Watch 100 ms later: the probe opens a
  // new one at once, and no check fails.
  auto server = TestServer::start(
      "r", {"--max-connection-age", "300ms", "--max-connection-age-grace", "100ms"});
  ASSERT_TRUE(server) << server.error();
  ProbeRun run(loopback(server->port()), config(100ms));
  ASSERT_TRUE(run.run_until_results(25, 10000ms));
  for (const auto& r : run.results) EXPECT_EQ(r.outcome, Outcome::kPassed) << r.detail;
}

TEST(HealthProbe, FallsBackToCheckWhenWatchIsUnimplemented) {
  auto server = TestServer::start("c", {"--health", "check-only"});
  ASSERT_TRUE(server) << server.error();
  ProbeRun run(loopback(server->port()), config(100ms));
  ASSERT_TRUE(run.run_until_results(1));
  EXPECT_EQ(run.results[0].outcome, Outcome::kPassed) << run.results[0].detail;
  EXPECT_FALSE(run.probe.uses_watch());
  ASSERT_TRUE(server->set_health("", false));
  const size_t before = run.results.size();
  ASSERT_TRUE(run.run_until_results(before + 3));
  EXPECT_EQ(run.results.back().outcome, Outcome::kFailed);
  EXPECT_EQ(run.results.back().detail, "NOT_SERVING");
}

TEST(HealthProbe, AServiceNameIsAskedAbout) {
  auto server = TestServer::start("n");
  ASSERT_TRUE(server) << server.error();
  core::HealthCheckConfig c = config(60s);
  c.service = "sluice.test.v1.TestService";
  ProbeRun known(loopback(server->port()), c);
  ASSERT_TRUE(known.run_until_results(1));
  EXPECT_EQ(known.results[0].outcome, Outcome::kPassed) << known.results[0].detail;
  c.service = "no.such.Service";
  ProbeRun unknown(loopback(server->port()), c);
  ASSERT_TRUE(unknown.run_until_results(1));
  EXPECT_EQ(unknown.results[0].outcome, Outcome::kFailed);
  EXPECT_EQ(unknown.results[0].detail, "SERVICE_UNKNOWN");
}

TEST(HealthProbe, ABackendWithoutTheHealthServiceFailsItsChecksSayingSo) {
  auto server = TestServer::start("x", {"--health", "none"});
  ASSERT_TRUE(server) << server.error();
  ProbeRun run(loopback(server->port()), config(100ms));
  ASSERT_TRUE(run.run_until_results(2));
  EXPECT_FALSE(run.probe.uses_watch());
  for (const auto& r : run.results) {
    EXPECT_EQ(r.outcome, Outcome::kError);
    EXPECT_NE(r.detail.find("does not implement grpc.health.v1"), std::string::npos) << r.detail;
  }
}

TEST(HealthProbe, AClosedPortIsAFailedCheck) {
  uint16_t port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, loopback(0));
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  ProbeRun run(loopback(port), config(100ms));
  ASSERT_TRUE(run.run_until_results(2));
  for (const auto& r : run.results) {
    EXPECT_EQ(r.outcome, Outcome::kError);
    EXPECT_NE(r.detail.find("connect"), std::string::npos) << r.detail;
  }
}

TEST(HealthProbe, ABackendThatNeverAnswersTimesOut) {
  asio::io_context listener_io;
  asio::ip::tcp::acceptor acceptor(listener_io, loopback(0));  // accepts (backlog), never reads
  core::HealthCheckConfig c = config(100ms);
  c.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  ProbeRun run(loopback(acceptor.local_endpoint().port()), c);
  ASSERT_TRUE(run.run_until_results(1));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  EXPECT_EQ(run.results[0].outcome, Outcome::kTimeout) << run.results[0].detail;
  EXPECT_EQ(run.results[0].detail, "timed out after 300 ms");
  // Later checks time out too, or find the connection closed by keepalive (PINGs unanswered).
  ASSERT_TRUE(run.run_until_results(4));
  for (const auto& r : run.results) EXPECT_NE(r.outcome, Outcome::kPassed) << r.detail;
}

TEST(HealthProbe, AKilledBackendFailsAtOnceAndRecoversWhenBack) {
  auto server = TestServer::start("k");
  ASSERT_TRUE(server) << server.error();
  ProbeRun run(loopback(server->port()), config(100ms));
  ASSERT_TRUE(run.run_until_results(1));
  ASSERT_EQ(run.results[0].outcome, Outcome::kPassed);
  ASSERT_TRUE(server->stop());
  ASSERT_TRUE(run.run_until_results(3));
  EXPECT_NE(run.results.back().outcome, Outcome::kPassed);
}

}  // namespace
}  // namespace sluice::health
