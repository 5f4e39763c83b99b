// Circuit breakers (Envoy's names, over all workers): beyond max_requests calls in flight,
// max_pending calls waiting for a stream slot, or max_retries calls retrying, a call fails at
// once with UNAVAILABLE (a retry is not sent), counted by kind; the limits free up as calls end.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "integration/async_calls.h"
#include "integration/raw_h2_backend.h"
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

long overflows(const SluiceProcess& proxy, const std::string& kind) {
  return proxy.metric("sluice_circuit_breaker_overflow_total{cluster=\"backends\",kind=\"" + kind +
                      "\"}");
}

// Runs `count` calls of `delay_ms` at once; the results.
std::vector<AsyncUnaryCalls::Result> concurrent_calls(const SluiceProcess& proxy, int count,
                                                      uint32_t delay_ms) {
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy.address()));
  CallRequest slow;
  slow.set_delay_ms(delay_ms);
  AsyncUnaryCalls calls;
  calls.start(*stub, slow, count, 10s);
  return calls.rest();
}

// How many results are OK, and how many failed UNAVAILABLE naming `limit`.
std::pair<int, int> ok_and_refused(const std::vector<AsyncUnaryCalls::Result>& results,
                                   const std::string& limit) {
  int ok = 0, refused = 0;
  for (const auto& r : results) {
    if (r.status.ok()) {
      ++ok;
    } else if (r.status.error_code() == grpc::StatusCode::UNAVAILABLE &&
               r.status.error_message().find("circuit breaker " + limit) != std::string::npos) {
      ++refused;
    } else {
      ADD_FAILURE() << r.status.error_code() << " " << r.status.error_message();
    }
  }
  return {ok, refused};
}

TEST(ProxyCircuitBreaker, MaxRequestsTurnsAwayTheCallsBeyondIt) {
  auto backend = TestServer::start("b0");
  ASSERT_TRUE(backend) << backend.error();
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config(
      {backend->address()}, 1, "    circuit_breakers: {max_requests: 2}\n"));
  ASSERT_TRUE(proxy) << proxy.error();
  const auto [ok, refused] = ok_and_refused(concurrent_calls(*proxy, 5, 500), "max_requests (2)");
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(refused, 3);
  EXPECT_EQ(overflows(*proxy, "requests"), 3);
  // Once those calls ended, the limit is free again.
  const auto [ok_after, refused_after] = ok_and_refused(concurrent_calls(*proxy, 2, 0), "");
  EXPECT_EQ(ok_after, 2);
  EXPECT_EQ(refused_after, 0);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyCircuitBreaker, MaxPendingTurnsAwayTheCallsThatWouldWaitBeyondIt) {
  // One stream at a time on one connection: the second call waits for the slot, the third
  // would wait beyond max_pending 1.
  auto backend = TestServer::start("b0", {"--max-concurrent-streams", "1"});
  ASSERT_TRUE(backend) << backend.error();
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config(
      {backend->address()}, 1,
      "    max_connections_per_endpoint: 1\n    circuit_breakers: {max_pending: 1}\n"));
  ASSERT_TRUE(proxy) << proxy.error();
  // A first call teaches the pool the backend's SETTINGS (until then it assumes 100 streams).
  ASSERT_EQ(ok_and_refused(concurrent_calls(*proxy, 1, 0), "").first, 1);
  const auto [ok, refused] = ok_and_refused(concurrent_calls(*proxy, 3, 300), "max_pending (1)");
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(overflows(*proxy, "pending"), 1);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyCircuitBreaker, MaxRetriesHoldsBackTheRetry) {
  auto failing = RawH2Backend::start({.id = "failing", .fail_first = 1000000});
  ASSERT_TRUE(failing) << failing.error();
  const std::string retry_policy =
      "    service_config: '{\"methodConfig\": [{\"name\": [{}], \"retryPolicy\": {"
      "\"maxAttempts\": 3, \"initialBackoff\": \"0.01s\", \"maxBackoff\": \"0.1s\", "
      "\"backoffMultiplier\": 2, \"retryableStatusCodes\": [\"UNAVAILABLE\"]}}]}'\n"
      "    circuit_breakers: {max_retries: 0}\n";
  auto proxy =
      SluiceProcess::start(SluiceProcess::simple_config({(*failing)->address()}, 1, retry_policy));
  ASSERT_TRUE(proxy) << proxy.error();
  auto r = raw_grpc_request(proxy->address(), "/sluice.test.v1.TestService/Unary", "", 5s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->header("grpc-status"), "14");
  EXPECT_EQ((*failing)->failed(), 1) << "the retry was not sent";
  EXPECT_EQ(overflows(*proxy, "retries"), 1);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

}  // namespace
}  // namespace sluice::testing
