// Outlier detection end to end: sick backends (testservers failing a share of their calls) are
// ejected by consecutive failures, failure percentage and success rate, within the limit.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "integration/clusters_page.h"
#include "integration/load_process.h"
#include "integration/sluice_process.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

// Backends h0..h{n-1}; the first `sick` of them fail `share` of their calls with UNAVAILABLE.
std::vector<TestServer> start_backends(int n, int sick, const std::string& share) {
  std::vector<TestServer> out;
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> extra;
    if (i < sick) extra = {"--fail-share", share};
    auto s = TestServer::start("h" + std::to_string(i), extra);
    EXPECT_TRUE(s) << s.error();
    if (s) out.push_back(std::move(*s));
  }
  return out;
}

std::string config(const std::vector<TestServer>& backends, const std::string& outlier) {
  std::ostringstream y;
  y << "workers: 1\ndrain_timeout: 5s\nadmin: {address: 127.0.0.1:0}\n"
    << "listeners:\n  - name: main\n    address: 127.0.0.1:0\n"
    << "clusters:\n  - name: backends\n    outlier_detection: " << outlier << "\n"
    << "    endpoints:\n";
  for (const auto& b : backends) y << "      - " << b.address() << "\n";
  return y.str();
}

long ejected_now(const SluiceProcess& proxy, const std::vector<TestServer>& backends) {
  long n = 0;
  for (const auto& b : backends) {
    n += proxy.metric("sluice_endpoint_ejected{cluster=\"backends\",endpoint=\"" + b.address() +
                      "\"}");
  }
  return n;
}

uint64_t calls_of(TestServer& backend) {
  auto stats = backend.stats();
  EXPECT_TRUE(stats) << stats.error();
  return stats ? stats->calls_total() : 0;
}

TEST(ProxyOutlier, ConsecutiveFailuresEjectAtOnceAndAgainForTwiceAsLong) {
  auto backends = start_backends(3, 1, "1.0");
  ASSERT_EQ(backends.size(), 3u);
  auto proxy = SluiceProcess::start(
      config(backends, "{consecutive_failures: 5, interval: 1s, base_ejection_time: 2s}"));
  ASSERT_TRUE(proxy) << proxy.error();
  LoadRun run = run_load(proxy->address(), {"--rate", "1000", "--duration", "5s"});
  ASSERT_EQ(run.exit_code, 0);
  EXPECT_GT(run.result.value("calls", 0), 4500);
  std::printf("failed calls: %d of %d\n", run.result.value("errors", -1),
              run.result.value("calls", 0));
  // Five failures eject it; after 2 s it is let back, fails five more and goes for 4 s.
  EXPECT_LE(run.result.value("errors", -1), 20) << run.result["status"].dump();
  EXPECT_GE(run.result.value("errors", -1), 10) << "it was let back once";
  const std::string sick = backends[0].address();
  const nlohmann::json view = endpoint_view(*proxy, sick);
  EXPECT_EQ(view["ejections"]["consecutive_failures"], 2) << view.dump();
  EXPECT_EQ(view["ejected"], true);
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  // The second ejection began after t=2 s and lasts 4 s: past the end of the 5 s run by > 1 s.
  EXPECT_GT(view["ejected_until_unix_ms"].get<int64_t>() - now_ms, 1000) << view.dump();
  EXPECT_EQ(proxy->metric("sluice_outlier_ejections_total{cluster=\"backends\",endpoint=\"" + sick +
                          "\",reason=\"consecutive_failures\"}"),
            2);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

// One of five backends fails 30% of its calls; judged every 300 ms by `algorithm` alone, it is
// ejected once (for 30 s, longer than the run), and no other backend is. 2000 calls/s for 3 s:
// its fair share would be 1200 calls, and it is out after an interval or two.
void expect_the_thirty_percent_backend_ejected_by(const std::string& algorithm,
                                                  const std::string& reason) {
  auto backends = start_backends(5, 1, "0.3");
  ASSERT_EQ(backends.size(), 5u);
  auto proxy = SluiceProcess::start(config(
      backends,
      "{consecutive_failures: 0, interval: 300ms, base_ejection_time: 30s, " + algorithm + "}"));
  ASSERT_TRUE(proxy) << proxy.error();
  LoadRun run = run_load(proxy->address(), {"--rate", "2000", "--duration", "3s"});
  ASSERT_EQ(run.exit_code, 0);
  const nlohmann::json view = endpoint_view(*proxy, backends[0].address());
  EXPECT_EQ(view["ejections"][reason], 1) << view.dump();
  EXPECT_LT(calls_of(backends[0]), 600u) << view.dump();
  EXPECT_EQ(ejected_now(*proxy, backends), 1);
}

TEST(ProxyOutlier, FailurePercentageEjectsABackendFailingThirtyPercent) {
  expect_the_thirty_percent_backend_ejected_by(
      "failure_percentage: {threshold: 20, minimum_hosts: 5, request_volume: 20}",
      "failure_percentage");
}

TEST(ProxyOutlier, SuccessRateEjectsTheOutlierAmongFive) {
  // Rates near 1.0, 1.0, 1.0, 1.0, 0.7: below mean - 1.0 x stdev (about 0.82).
  expect_the_thirty_percent_backend_ejected_by(
      "success_rate: {stdev_factor: 1000, minimum_hosts: 5, request_volume: 20}", "success_rate");
}

TEST(ProxyOutlier, MaxEjectionPercentKeepsMostEndpointsInService) {
  // Three of five fail every call; at most 20% (one) may be out at once.
  auto backends = start_backends(5, 3, "1.0");
  ASSERT_EQ(backends.size(), 5u);
  auto proxy = SluiceProcess::start(
      config(backends, "{consecutive_failures: 3, interval: 1s, max_ejection_percent: 20}"));
  ASSERT_TRUE(proxy) << proxy.error();
  LoadRun run = run_load(proxy->address(), {"--concurrency", "10", "--calls", "2000"});
  ASSERT_EQ(run.exit_code, 0);
  EXPECT_EQ(ejected_now(*proxy, backends), 1);
  for (size_t i = 0; i < backends.size(); ++i) {
    EXPECT_GT(calls_of(backends[i]), 0u) << "only one sick endpoint is out; " << i;
  }
}

TEST(ProxyOutlier, AReloadWithoutOutlierDetectionBringsEjectedEndpointsBack) {
  auto backends = start_backends(3, 1, "1.0");
  ASSERT_EQ(backends.size(), 3u);
  auto proxy = SluiceProcess::start(
      config(backends, "{consecutive_failures: 3, interval: 10s, base_ejection_time: 300s}"));
  ASSERT_TRUE(proxy) << proxy.error();
  run_load(proxy->address(), {"--concurrency", "4", "--calls", "300"});
  ASSERT_EQ(ejected_now(*proxy, backends), 1);
  const uint64_t before = calls_of(backends[0]);
  std::string yaml = config(backends, "{}");
  const std::string without = "    outlier_detection: {}\n";
  yaml.replace(yaml.find(without), without.size(), "");
  proxy->rewrite_config(yaml);
  auto [code, body] = proxy->admin_request("POST", "/reload");
  ASSERT_EQ(code, 200) << body;
  EXPECT_EQ(ejected_now(*proxy, backends), 0);
  run_load(proxy->address(), {"--concurrency", "4", "--calls", "300"});
  EXPECT_GT(calls_of(backends[0]), before + 50) << "back in the rotation at once";
}

}  // namespace
}  // namespace sluice::testing
