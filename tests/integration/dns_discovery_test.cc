// DNS discovery against a real DNS server (dnsmasq): backends on 127.0.0.2..9, one port, so
// the name's A records are the membership. Scale-out reaches fair share within TTL + 1 s,
// scale-in loses no call, and a dead DNS server leaves the last good set serving.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/recording_load.h"
#include "integration/sluice_process.h"
#include "support/dns_server.h"
#include "support/grpc_helpers.h"
#include "support/loopback_backends.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using Clock = RecordingLoad::Clock;

constexpr char kName[] = "backends.sluice.test";
constexpr int kBackends = 8;
constexpr auto kTtl = 1s;  // dnsmasq's --local-ttl

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class DnsDiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto backends = LoopbackBackends::start(kBackends);
    ASSERT_TRUE(backends) << backends.error();
    backends_ = std::make_unique<LoopbackBackends>(std::move(*backends));
    auto dns = DnsServer::start(static_cast<int>(kTtl.count()));
    ASSERT_TRUE(dns) << dns.error();
    dns_ = std::make_unique<DnsServer>(std::move(*dns));
    ASSERT_NO_FATAL_FAILURE(serve(0, 3));
    std::string yaml = SluiceProcess::discovery_config(
        "{type: dns, name: \"" + std::string(kName) + ":" + std::to_string(backends_->port()) +
        "\", server: \"" + dns_->address() + "\", min_refresh: 500ms, max_refresh: 5s}");
    auto p = SluiceProcess::start(yaml);
    ASSERT_TRUE(p) << p.error();
    proxy_ = std::make_unique<SluiceProcess>(std::move(*p));
    ASSERT_NO_FATAL_FAILURE(wait_for_endpoints(3));
  }

  // The name resolves to backends [from, to).
  void serve(int from, int to) {
    auto done = dns_->set_addresses(kName, LoopbackBackends::hosts(from, to));
    ASSERT_TRUE(done) << done.error();
  }

  void wait_for_endpoints(size_t n) {
    std::string last;
    for (auto deadline = Clock::now() + kTtl + 2s; Clock::now() < deadline;) {
      auto clusters = proxy_->admin_get("/clusters");
      if (clusters) {
        last = *clusters;
        if (count(last, "\"address\": \"127.0.0.") == n) return;
      }
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "the proxy did not get " << n << " endpoints from DNS: " << last;
  }

  std::unique_ptr<LoopbackBackends> backends_;
  std::unique_ptr<DnsServer> dns_;
  std::unique_ptr<SluiceProcess> proxy_;
};

TEST_F(DnsDiscoveryTest, ScaleOutReachesFairShareWithinTtlPlusOneSecond) {
  RecordingLoad load(make_channel(proxy_->address()), 16, 2);
  std::this_thread::sleep_for(1s);
  auto before = load.between(Clock::now() - 500ms, Clock::now());
  EXPECT_EQ(before.size(), 3u);
  ASSERT_NO_FATAL_FAILURE(serve(0, kBackends));
  const auto changed = Clock::now();  // dnsmasq answers the 8 from here on
  std::this_thread::sleep_for(kTtl + 2s);
  auto window = load.between(changed + kTtl + 1s, changed + kTtl + 2s);
  load.stop();
  expect_fair_share(window, 3, kBackends);
  auto failures = load.failures();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
  auto clusters = proxy_->admin_get("/clusters");
  ASSERT_TRUE(clusters) << clusters.error();
  const std::string source =
      "dns:" + std::string(kName) + ":" + std::to_string(backends_->port()) + "@" + dns_->address();
  EXPECT_NE(clusters->find(source), std::string::npos) << *clusters;
  EXPECT_NE(clusters->find("\"last_error\": \"\""), std::string::npos) << *clusters;
}

TEST_F(DnsDiscoveryTest, ScaleInLosesNoCall) {
  ASSERT_NO_FATAL_FAILURE(serve(0, kBackends));
  ASSERT_NO_FATAL_FAILURE(wait_for_endpoints(kBackends));
  RecordingLoad load(make_channel(proxy_->address()), 16, 2);
  std::this_thread::sleep_for(1s);
  ASSERT_NO_FATAL_FAILURE(serve(5, kBackends));
  const auto changed = Clock::now();
  std::this_thread::sleep_for(kTtl + 1500ms);
  auto after = load.between(changed + kTtl + 1s, Clock::now());
  load.stop();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(after["n" + std::to_string(i)], 0) << "n" << i;
  for (int i = 5; i < kBackends; ++i) EXPECT_GT(after["n" + std::to_string(i)], 0) << "n" << i;
  auto failures = load.failures();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
}

TEST_F(DnsDiscoveryTest, DeadDnsServerLeavesTheLastGoodSetServing) {
  RecordingLoad load(make_channel(proxy_->address()), 4, 2);
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(dns_->process().send_signal(SIGKILL));
  ASSERT_TRUE(dns_->process().wait_exit(2s));
  const auto killed = Clock::now();
  std::this_thread::sleep_for(3500ms);
  auto last = load.between(killed + 2500ms, Clock::now());
  const size_t succeeded = load.succeeded();
  load.stop();
  EXPECT_EQ(last.size(), 3u);
  for (auto& [id, n] : last) EXPECT_TRUE(id == "n0" || id == "n1" || id == "n2") << id;
  EXPECT_GT(succeeded, 100u);
  auto failures = load.failures();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();

  auto clusters = proxy_->admin_get("/clusters");
  ASSERT_TRUE(clusters) << clusters.error();
  EXPECT_EQ(count(*clusters, "\"address\": \"127.0.0."), 3u) << *clusters;
  EXPECT_NE(clusters->find(std::string("\"last_error\": \"") + kName + ": A: "), std::string::npos)
      << *clusters;
  auto metrics = proxy_->admin_get("/metrics");
  ASSERT_TRUE(metrics) << metrics.error();
  EXPECT_NE(metrics->find("sluice_discovery_errors_total{cluster=\"backends\""), std::string::npos);
  EXPECT_EQ(metrics->find("sluice_discovery_errors_total{cluster=\"backends\",source=\"dns:" +
                          std::string(kName) + ":" + std::to_string(backends_->port()) + "@" +
                          dns_->address() + "\"} 0"),
            std::string::npos)
      << *metrics;
}

}  // namespace
}  // namespace sluice::testing
