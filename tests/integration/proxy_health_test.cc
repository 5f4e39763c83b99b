// Active health checks end to end: a backend whose grpc.health.v1 status turns NOT_SERVING
// under load stops getting calls at once (Watch) or within one interval (Check fallback), no
// call fails, it comes back when SERVING again; a new endpoint waits for its first check; with
// too few healthy endpoints the proxy balances over all (panic).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "integration/clusters_page.h"
#include "integration/recording_load.h"
#include "integration/sluice_process.h"
#include "integration/wait_until.h"
#include "support/grpc_helpers.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using Clock = RecordingLoad::Clock;

std::vector<TestServer> start_backends(int n, const std::vector<std::string>& extra = {}) {
  std::vector<TestServer> out;
  for (int i = 0; i < n; ++i) {
    auto s = TestServer::start("h" + std::to_string(i), extra);
    EXPECT_TRUE(s) << s.error();
    if (s) out.push_back(std::move(*s));
  }
  return out;
}

std::string config(const std::vector<TestServer*>& backends, const std::string& health) {
  std::ostringstream y;
  y << "workers: 2\ndrain_timeout: 5s\nadmin: {address: 127.0.0.1:0}\n"
    << "listeners:\n  - name: main\n    address: 127.0.0.1:0\n"
    << "clusters:\n  - name: backends\n    health_check: " << health << "\n"
    << "    endpoints:\n";
  for (const auto* b : backends) y << "      - " << b->address() << "\n";
  return y.str();
}

std::vector<TestServer*> pointers(std::vector<TestServer>& backends) {
  std::vector<TestServer*> out;
  for (auto& b : backends) out.push_back(&b);
  return out;
}

long healthy_metric(const SluiceProcess& proxy, const TestServer& b) {
  return proxy.metric("sluice_endpoint_healthy{cluster=\"backends\",endpoint=\"" + b.address() +
                      "\"}");
}

bool all_healthy(const SluiceProcess& proxy, const std::vector<TestServer>& backends) {
  for (const auto& b : backends) {
    if (healthy_metric(proxy, b) != 1) return false;
  }
  return true;
}

// TCP connections in ESTABLISHED state to 127.0.0.1:port, client sides (/proc/net/tcp): the
// proxy opens none to a backend without calls but its health connection.
int established_to(uint16_t port) {
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // header
  char remote[64];
  char state[8];
  int n = 0;
  char want[16];
  std::snprintf(want, sizeof want, ":%04X", port);
  while (std::getline(tcp, line)) {
    if (std::sscanf(line.c_str(), "%*s %*s %63s %7s", remote, state) != 2) continue;
    if (std::string(remote).ends_with(want) && std::string(state) == "01") ++n;
  }
  return n;
}

// Three backends under load; backend 0 turns NOT_SERVING for 3 s, then SERVING again. It
// gets no call from `grace` after the flip until it is back, and calls again within `grace`
// after; no call fails.
void expect_not_serving_backend_drained(const std::vector<std::string>& server_args,
                                        std::chrono::milliseconds grace) {
  auto backends = start_backends(3, server_args);
  ASSERT_EQ(backends.size(), 3u);
  auto proxy = SluiceProcess::start(
      config(pointers(backends), "{interval: 500ms, unhealthy_threshold: 1, initial_jitter: 0s}"));
  ASSERT_TRUE(proxy) << proxy.error();
  ASSERT_TRUE(wait_until([&] { return all_healthy(*proxy, backends); }, 5000ms));
  RecordingLoad load(make_channel(proxy->address()), 4, 1);
  ASSERT_TRUE(wait_until([&] { return load.succeeded() > 500; }));
  const auto flipped = Clock::now();
  ASSERT_TRUE(backends[0].set_health("", false));
  ASSERT_TRUE(wait_until([&] { return Clock::now() > flipped + 3s; }, 5000ms));
  const auto back = Clock::now();
  ASSERT_TRUE(backends[0].set_health("", true));
  ASSERT_TRUE(wait_until([&] { return Clock::now() > back + grace + 1s; }, 5000ms));
  load.stop();

  const auto drained = load.between(flipped + grace, back);
  const auto returned = load.between(back + grace, back + grace + 1s);
  const std::string sick = backends[0].id();
  std::printf(
      "calls while NOT_SERVING (after %lld ms): %d of %d+%d+%d; after SERVING: %d\n",
      static_cast<long long>(grace.count()), drained.count(sick) ? drained.at(sick) : 0,
      drained.count("h0") ? drained.at("h0") : 0, drained.count("h1") ? drained.at("h1") : 0,
      drained.count("h2") ? drained.at("h2") : 0, returned.count(sick) ? returned.at(sick) : 0);
  EXPECT_EQ(drained.count(sick), 0u) << "a NOT_SERVING backend got calls";
  EXPECT_GT(drained.count("h1") ? drained.at("h1") : 0, 500);
  EXPECT_GT(returned.count(sick) ? returned.at(sick) : 0, 0) << "not back within one interval";
  EXPECT_TRUE(load.failures().empty())
      << load.failures().size() << " failed, first: " << load.failures().front();
  const nlohmann::json view = endpoint_view(*proxy, backends[0].address());
  EXPECT_EQ(view["health"]["state"], "healthy") << view.dump();
  EXPECT_GE(view["health"]["checks"]["failed"].get<int>(), 1) << view.dump();
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyHealth, NotServingBackendGetsNoCallsAndNoCallFailsWithWatch) {
  // Watch announces the change at once: out within 200 ms.
  expect_not_serving_backend_drained({}, 200ms);
}

TEST(ProxyHealth, NotServingBackendGetsNoCallsWithCheckFallback) {
  // Check every 500 ms: out within one interval (plus the check's round trip).
  expect_not_serving_backend_drained({"--health", "check-only"}, 700ms);
}

TEST(ProxyHealth, PanicWithTwoOfThreeUnhealthyBalancesOverAll) {
  auto backends = start_backends(3);
  ASSERT_EQ(backends.size(), 3u);
  ASSERT_TRUE(backends[0].set_health("", false));
  ASSERT_TRUE(backends[1].set_health("", false));
  auto proxy = SluiceProcess::start(
      config(pointers(backends), "{interval: 200ms, initial_jitter: 0s, panic_threshold: 50%}"));
  ASSERT_TRUE(proxy) << proxy.error();
  ASSERT_TRUE(wait_until([&] {
    return healthy_metric(*proxy, backends[2]) == 1 &&
           proxy->metric("sluice_cluster_panic{cluster=\"backends\"}") == 1;
  }));
  EXPECT_EQ(healthy_metric(*proxy, backends[0]), 0);
  RecordingLoad load(make_channel(proxy->address()), 4, 1);
  ASSERT_TRUE(wait_until([&] { return load.succeeded() > 1500; }));
  load.stop();
  const auto counts = load.counts();
  for (const auto& b : backends) {
    EXPECT_GT(counts.count(b.id()) ? counts.at(b.id()) : 0, 200) << b.id() << " in panic";
  }
  EXPECT_TRUE(load.failures().empty());
  // One of three unhealthy (67% healthy): out of panic, and it gets nothing.
  ASSERT_TRUE(backends[1].set_health("", true));
  ASSERT_TRUE(
      wait_until([&] { return proxy->metric("sluice_cluster_panic{cluster=\"backends\"}") == 0; }));
  RecordingLoad after(make_channel(proxy->address()), 4, 1);
  ASSERT_TRUE(wait_until([&] { return after.succeeded() > 1000; }));
  after.stop();
  EXPECT_EQ(after.counts().count("h0"), 0u);
}

TEST(ProxyHealth, ANewEndpointGetsCallsOnlyOnceItsFirstCheckPasses) {
  auto backends = start_backends(3);
  ASSERT_EQ(backends.size(), 3u);
  ASSERT_TRUE(backends[2].set_health("", false));
  std::vector<TestServer*> first = {&backends[0], &backends[1]};
  const std::string health = "{interval: 300ms, initial_jitter: 0s}";
  auto proxy = SluiceProcess::start(config(first, health));
  ASSERT_TRUE(proxy) << proxy.error();
  RecordingLoad load(make_channel(proxy->address()), 4, 1);
  ASSERT_TRUE(wait_until([&] { return load.succeeded() > 500; }));
  proxy->rewrite_config(config(pointers(backends), health));
  const auto reloaded = Clock::now();
  ASSERT_EQ(proxy->admin_request("POST", "/reload").first, 200);
  ASSERT_TRUE(wait_until([&] {
    return endpoint_view(*proxy, backends[2].address())["health"]["state"] == "unhealthy";
  }));
  ASSERT_TRUE(wait_until([&] { return Clock::now() > reloaded + 1s; }));
  EXPECT_EQ(load.between(reloaded, Clock::now()).count("h2"), 0u)
      << "an endpoint not yet (or never) healthy got calls";
  const nlohmann::json view = endpoint_view(*proxy, backends[2].address());
  EXPECT_EQ(view["eligible"], false) << view.dump();
  EXPECT_EQ(view["health"]["last_check"]["detail"], "NOT_SERVING") << view.dump();
  ASSERT_TRUE(backends[2].set_health("", true));
  const auto serving = Clock::now();
  ASSERT_TRUE(wait_until([&] { return load.between(serving, Clock::now()).count("h2") > 0; }));
  load.stop();
  EXPECT_TRUE(load.failures().empty());
  EXPECT_GT(proxy->metric("sluice_health_checks_total{cluster=\"backends\",endpoint=\"" +
                          backends[0].address() + "\",result=\"passed\"}"),
            0);
}

TEST(ProxyHealth, AnIdleClusterIsCheckedAtTheNoTrafficIntervalAndAtOnceWhenCallsResume) {
  // Check mode (no Watch to push the change): after the first checks, an idle cluster waits
  // no_traffic_interval (1 h) between checks, so a flip to NOT_SERVING goes unseen; the first
  // calls make every endpoint be checked at once.
  auto backends = start_backends(2, {"--health", "check-only"});
  ASSERT_EQ(backends.size(), 2u);
  auto proxy = SluiceProcess::start(config(
      pointers(backends),
      "{interval: 200ms, unhealthy_threshold: 1, initial_jitter: 0, no_traffic_interval: 1h}"));
  ASSERT_TRUE(proxy) << proxy.error();
  ASSERT_TRUE(wait_until([&] { return all_healthy(*proxy, backends); }));
  const std::string checks = "sluice_health_checks_total{cluster=\"backends\",endpoint=\"" +
                             backends[0].address() + "\",result=\"passed\"}";
  // The cluster counts as busy for its first interval: let that pass, then count.
  ASSERT_TRUE(wait_until([&] { return proxy->metric(checks) >= 2; }));
  const auto second = Clock::now();  // at most one more check may still come (timer order)
  ASSERT_TRUE(wait_until([&] { return Clock::now() > second + 600ms; }, 2000ms));
  const long settled = proxy->metric(checks);
  ASSERT_TRUE(backends[0].set_health("", false));
  const auto flipped = Clock::now();
  ASSERT_TRUE(wait_until([&] { return Clock::now() > flipped + 1500ms; }, 3000ms));
  EXPECT_EQ(healthy_metric(*proxy, backends[0]), 1) << "checked while idle";
  EXPECT_EQ(proxy->metric(checks), settled);
  RecordingLoad load(make_channel(proxy->address()), 2, 1);
  const auto busy = Clock::now();
  ASSERT_TRUE(wait_until([&] { return healthy_metric(*proxy, backends[0]) == 0; }, 3000ms))
      << "calls resumed but the endpoint was not checked";
  std::printf(
      "unhealthy %lld ms after calls resumed\n",
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - busy).count()));
  load.stop();
  EXPECT_TRUE(load.failures().empty());
}

TEST(ProxyHealth, ARemovedEndpointStopsBeingChecked) {
  auto backends = start_backends(2);
  ASSERT_EQ(backends.size(), 2u);
  const std::string health = "{interval: 100ms, initial_jitter: 0s}";
  auto proxy = SluiceProcess::start(config(pointers(backends), health));
  ASSERT_TRUE(proxy) << proxy.error();
  ASSERT_TRUE(wait_until([&] { return all_healthy(*proxy, backends); }));
  std::vector<TestServer*> one = {&backends[0]};
  proxy->rewrite_config(config(one, health));
  ASSERT_TRUE(wait_until([&] { return established_to(backends[1].port()) > 0; }))
      << "its health connection to port " << backends[1].port();
  ASSERT_EQ(proxy->admin_request("POST", "/reload").first, 200);
  EXPECT_EQ(healthy_metric(*proxy, backends[1]), -1) << "no sample for a removed endpoint";
  EXPECT_TRUE(wait_until([&] { return established_to(backends[1].port()) == 0; }, 3000ms))
      << "the removed endpoint's health connection stays open";
  EXPECT_EQ(healthy_metric(*proxy, backends[0]), 1);
  EXPECT_GT(established_to(backends[0].port()), 0);
}

}  // namespace
}  // namespace sluice::testing
