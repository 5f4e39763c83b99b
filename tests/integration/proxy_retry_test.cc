// Retries by the gRPC service config's retryPolicy (gRFC A6), end to end: a retryable
// Trailers-Only answer or a backend lost mid-call is tried again on another endpoint, after
// the backoff or the server's pushback, never past the deadline or maxAttempts, never after
// the call committed, and within the cluster's retry budget.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "integration/raw_h2_backend.h"
#include "integration/raw_h2_client.h"
#include "integration/recording_load.h"
#include "integration/sluice_process.h"
#include "integration/wait_until.h"
#include "sluice/test/v1/test.grpc.pb.h"
#include "support/grpc_helpers.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using sluice::test::v1::CallRequest;
using sluice::test::v1::CallResponse;

constexpr const char* kUnary = "/sluice.test.v1.TestService/Unary";

// The service config users hand grpc's WithDefaultServiceConfig, as a YAML block scalar.
std::string retry_service_config(int max_attempts, const std::string& initial_backoff = "0.01s") {
  return "    service_config: |\n"
         "      {\"methodConfig\": [{\n"
         "        \"name\": [{\"service\": \"sluice.test.v1.TestService\"}],\n"
         "        \"retryPolicy\": {\"maxAttempts\": " +
         std::to_string(max_attempts) + ", \"initialBackoff\": \"" + initial_backoff +
         "\",\n"
         "          \"maxBackoff\": \"0.1s\", \"backoffMultiplier\": 2,\n"
         "          \"retryableStatusCodes\": [\"UNAVAILABLE\"]}}]}\n";
}

// A proxy whose cluster "backends" (these endpoints) retries UNAVAILABLE up to `max_attempts`.
Expected<SluiceProcess, std::string> retrying_proxy(const std::vector<std::string>& endpoints,
                                                    int max_attempts, int workers = 1) {
  return SluiceProcess::start(
      SluiceProcess::simple_config(endpoints, workers, retry_service_config(max_attempts)));
}

std::unique_ptr<RawH2Backend> raw(RawH2Backend::Options options) {
  auto b = RawH2Backend::start(std::move(options));
  EXPECT_TRUE(b) << b.error();
  return b ? std::move(*b) : nullptr;
}

// Retries of UNAVAILABLE attempts (the sample is absent until there is one).
long retries(const SluiceProcess& proxy) {
  return std::max(
      0L, proxy.metric("sluice_retries_total{cluster=\"backends\",reason=\"UNAVAILABLE\"}"));
}

TEST(ProxyRetry, ARetryableTrailersOnlyAnswerIsRetriedOnAnotherEndpoint) {
  auto failing = raw({.id = "failing", .fail_first = 1000000});
  auto good = raw({.id = "good"});
  ASSERT_TRUE(failing && good);
  auto proxy = retrying_proxy({failing->address(), good->address()}, 3);
  ASSERT_TRUE(proxy) << proxy.error();
  int retried = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = raw_grpc_request(proxy->address(), kUnary, "", 5s);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->header("grpc-status"), "0") << r->header("grpc-message");
    EXPECT_EQ(r->header("x-backend-id"), "good");
    retried += r->header("x-previous-rpc-attempts") == "1";
  }
  // Round robin (retries take their turn too) sent at least every other first attempt to the
  // failing backend; each of those was retried once, on the good one.
  EXPECT_GE(failing->failed(), 10);
  EXPECT_EQ(retried, failing->failed()) << "each retry says how many attempts came before it";
  EXPECT_EQ(retries(*proxy), failing->failed());
  EXPECT_EQ(good->answered(), 20);
  EXPECT_EQ(proxy->metric("sluice_call_attempts_sum{cluster=\"backends\"}"),
            20 + failing->failed());
  EXPECT_EQ(proxy->metric("sluice_call_attempts_count{cluster=\"backends\"}"), 20);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyRetry, MaxAttemptsBoundsTheTriesAndTheLastStatusIsForwarded) {
  auto failing = raw({.id = "failing", .fail_first = 1000000});
  ASSERT_TRUE(failing);
  auto proxy = retrying_proxy({failing->address()}, 3);
  ASSERT_TRUE(proxy) << proxy.error();
  auto r = raw_grpc_request(proxy->address(), kUnary, "", 5s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->header("grpc-status"), "14");
  EXPECT_TRUE(r->first_headers_end_stream) << "the backend's own Trailers-Only, forwarded";
  EXPECT_EQ(failing->failed(), 3) << "maxAttempts 3, all on the only endpoint";
  EXPECT_EQ(retries(*proxy), 2);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyRetry, TheServersPushbackSetsTheDelayAndANegativeOneStopsRetries) {
  {
    auto failing = raw({.id = "failing", .fail_first = 1, .pushback = "300"});
    ASSERT_TRUE(failing);
    auto proxy = retrying_proxy({failing->address()}, 3);
    ASSERT_TRUE(proxy) << proxy.error();
    const auto sent = Clock::now();
    auto r = raw_grpc_request(proxy->address(), kUnary, "", 5s);
    const auto elapsed = Clock::now() - sent;
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->header("grpc-status"), "0");
    EXPECT_EQ(r->header("x-previous-rpc-attempts"), "1");
    EXPECT_GE(elapsed, 300ms) << "pushback 300 ms, not the 10 ms backoff";
    EXPECT_LT(elapsed, 2s);
  }
  {
    auto failing = raw({.id = "failing", .fail_first = 1, .pushback = "-1"});
    ASSERT_TRUE(failing);
    auto proxy = retrying_proxy({failing->address()}, 3);
    ASSERT_TRUE(proxy) << proxy.error();
    auto r = raw_grpc_request(proxy->address(), kUnary, "", 5s);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->header("grpc-status"), "14") << "pushback -1: no retry";
    EXPECT_EQ(failing->failed(), 1);
    EXPECT_EQ(failing->answered(), 0);
    EXPECT_EQ(retries(*proxy), 0);
  }
}

TEST(ProxyRetry, NoAttemptStartsAfterTheDeadline) {
  // The next attempt would start 500 ms later (pushback), past the call's 100 ms deadline:
  // the call ends at once with DEADLINE_EXCEEDED instead of waiting for nothing.
  auto failing = raw({.id = "failing", .fail_first = 1000000, .pushback = "500"});
  ASSERT_TRUE(failing);
  auto proxy = retrying_proxy({failing->address()}, 5);
  ASSERT_TRUE(proxy) << proxy.error();
  const auto sent = Clock::now();
  auto r = raw_h2_request(proxy->address(),
                          {{":method", "POST"},
                           {":scheme", "http"},
                           {":path", kUnary},
                           {":authority", "test"},
                           {"content-type", "application/grpc"},
                           {"te", "trailers"},
                           {"grpc-timeout", "100m"}},
                          std::string(5, '\0'), 5s);
  const auto elapsed = Clock::now() - sent;
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->header("grpc-status"), "4") << r->header("grpc-message");
  EXPECT_LT(elapsed, 100ms) << "no waiting for an attempt that could not start";
  EXPECT_EQ(failing->failed(), 1);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyRetry, AStreamIsRetriedBeforeItCommitsAndNeverAfterItsFirstMessage) {
  auto failing = raw({.id = "failing", .fail_first = 1000000});
  ASSERT_TRUE(failing);
  auto backend = TestServer::start("b0");
  ASSERT_TRUE(backend) << backend.error();
  {
    // Before commit: the failing backend's Trailers-Only is retried on the other.
    auto proxy = retrying_proxy({failing->address(), backend->address()}, 3);
    ASSERT_TRUE(proxy) << proxy.error();
    auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy->address()));
    for (int i = 0; i < 2; ++i) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + 5s);
      CallRequest req;
      req.set_response_count(3);
      auto reader = stub->ServerStream(&ctx, req);
      CallResponse resp;
      int messages = 0;
      while (reader->Read(&resp)) ++messages;
      auto status = reader->Finish();
      EXPECT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(messages, 3);
    }
    // Round robin: one of the two calls at least started on the failing backend.
    EXPECT_GE(failing->failed(), 1);
    EXPECT_EQ(retries(*proxy), failing->failed());
  }
  {
    // After the first message the call is committed: a failure in its trailers is final.
    auto proxy = retrying_proxy({backend->address()}, 3);
    ASSERT_TRUE(proxy) << proxy.error();
    auto before = backend->stats();
    ASSERT_TRUE(before) << before.error();
    auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy->address()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    CallRequest req;
    req.set_response_count(1);
    req.set_status_code(14);
    auto reader = stub->ServerStream(&ctx, req);
    CallResponse resp;
    int messages = 0;
    while (reader->Read(&resp)) ++messages;
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(messages, 1);
    auto after = backend->stats();
    ASSERT_TRUE(after) << after.error();
    EXPECT_EQ(after->calls_total() - before->calls_total(), 1u) << "not retried";
    EXPECT_EQ(retries(*proxy), 0);
  }
}

TEST(ProxyRetry, AKilledBackendUnderLoadFailsNoCall) {
  // 16 callers of 20 ms calls (~800 calls/s) over three backends; one is killed with SIGKILL.
  // Its calls in flight are retried elsewhere (without a retry policy they fail, see
  // ProxyTest.KilledBackendFailsItsCallsAndOthersKeepWorking).
  std::vector<TestServer> backends;
  std::vector<std::string> addresses;
  for (const char* id : {"b0", "b1", "b2"}) {
    auto s = TestServer::start(id);
    ASSERT_TRUE(s) << s.error();
    addresses.push_back(s->address());
    backends.push_back(std::move(*s));
  }
  auto proxy = retrying_proxy(addresses, 3, 2);
  ASSERT_TRUE(proxy) << proxy.error();
  RecordingLoad load(make_channel(proxy->address()), 16, 20);
  ASSERT_TRUE(wait_until([&] { return load.counts()["b0"] > 100; }));
  ASSERT_TRUE(backends[0].process().send_signal(SIGKILL));
  const size_t at_kill = load.succeeded();
  ASSERT_TRUE(wait_until([&] { return load.succeeded() > at_kill + 800; }));
  load.stop();
  const auto failures = load.failures();
  for (size_t i = 0; i < failures.size() && i < 5; ++i) ADD_FAILURE() << failures[i];
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed calls";
  EXPECT_GT(retries(*proxy), 0) << "the calls in flight on b0 were retried";
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyRetry, RetriesOfAFailingBackendStayWithinTheBudget) {
  // One backend of three fails every call; maxAttempts 5 would let each failure become four
  // more attempts. The budget (20% of calls + 10/s over 10 s) holds the attempts that reach
  // the backends to <= 1.3x the calls, and retries still turn most failures into successes.
  std::vector<TestServer> backends;
  std::vector<std::string> addresses;
  for (int i = 0; i < 3; ++i) {
    auto s = TestServer::start(
        "b" + std::to_string(i),
        i == 0 ? std::vector<std::string>{"--fail-share", "1"} : std::vector<std::string>{});
    ASSERT_TRUE(s) << s.error();
    addresses.push_back(s->address());
    backends.push_back(std::move(*s));
  }
  auto proxy = retrying_proxy(addresses, 5);
  ASSERT_TRUE(proxy) << proxy.error();
  RecordingLoad load(make_channel(proxy->address()), 8, 0);
  ASSERT_TRUE(wait_until([&] { return load.succeeded() + load.failures().size() >= 3000; }, 30s));
  load.stop();
  const uint64_t calls = load.succeeded() + load.failures().size();
  uint64_t attempts = 0;
  for (auto& b : backends) {
    auto stats = b.stats();
    ASSERT_TRUE(stats) << stats.error();
    attempts += stats->calls_total();
  }
  std::printf("[ figures  ] %llu calls, %llu attempts at the backends, %zu failed\n",
              static_cast<unsigned long long>(calls), static_cast<unsigned long long>(attempts),
              load.failures().size());
  EXPECT_LE(attempts, calls * 13 / 10) << attempts << " attempts for " << calls << " calls";
  EXPECT_GT(proxy->metric("sluice_retry_budget_exhausted_total{cluster=\"backends\"}"), 0);
  // Without retries a third of the calls would fail.
  EXPECT_LT(load.failures().size(), calls / 3) << load.failures().size() << " of " << calls;
  EXPECT_GT(retries(*proxy), 0);
}

}  // namespace
}  // namespace sluice::testing
