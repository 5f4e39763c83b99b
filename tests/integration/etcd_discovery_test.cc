// etcd discovery and registration against a real etcd (Debian's etcd-server on free ports):
// the resolver's Range + Watch, its resume after etcd restarts and after compaction, the
// registration's lease, and the proxy following testservers that register themselves
// (--register): scale-out, scale-in, etcd restarted under load, lease expiry.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "discovery/etcd_registration.h"
#include "discovery/etcd_resolver.h"
#include "integration/recording_load.h"
#include "integration/sluice_process.h"
#include "support/etcd_server.h"
#include "support/grpc_helpers.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using Clock = RecordingLoad::Clock;
using Addresses = std::vector<std::string>;

constexpr char kPrefix[] = "/sluice/backends/";

// An EtcdResolver on an io_context of its own, recording what it reports.
class ResolverProbe {
 public:
  ResolverProbe(const std::string& etcd, std::chrono::milliseconds initial_backoff = 500ms) {
    auto member = config::parse_host_port(etcd);
    resolver_ = std::make_unique<discovery::EtcdResolver>(
        io_, discovery::EtcdResolver::Options{{*member}, kPrefix, initial_backoff});
    resolver_->start([this](discovery::ResolveResult r) {
      std::lock_guard lock(mu_);
      if (r) {
        Addresses set;
        for (const auto& e : *r) set.push_back(e.address.to_string());
        sets_.push_back(std::move(set));
      } else {
        errors_.push_back(r.error());
      }
      cv_.notify_all();
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ResolverProbe() {
    work_.reset();
    io_.stop();
    thread_.join();
    resolver_.reset();  // the io thread is gone: nothing runs concurrently
  }
  // Waits until the last set reported is `want` (sorted).
  bool wait_set(const Addresses& want, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return !sets_.empty() && sets_.back() == want; });
  }
  bool wait_error(size_t count, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return errors_.size() >= count; });
  }
  std::vector<std::string> errors() {
    std::lock_guard lock(mu_);
    return errors_;
  }
  std::vector<Addresses> sets() {
    std::lock_guard lock(mu_);
    return sets_;
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::unique_ptr<discovery::EtcdResolver> resolver_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Addresses> sets_;
  std::vector<std::string> errors_;
};

class EtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto etcd = EtcdServer::start();
    ASSERT_TRUE(etcd) << etcd.error();
    etcd_ = std::move(*etcd);
  }
  void put(const std::string& id, const std::string& value) {
    auto r = etcd_->put(kPrefix + id, value);
    ASSERT_TRUE(r) << r.error();
  }
  void remove(const std::string& id) {
    auto r = etcd_->remove(kPrefix + id);
    ASSERT_TRUE(r) << r.error();
  }
  std::unique_ptr<EtcdServer> etcd_;
};

TEST_F(EtcdTest, ResolverReadsThePrefixThenFollowsItAndSkipsBadValues) {
  put("a", "10.0.0.1:80");
  put("bad", "not an address");
  ASSERT_TRUE(etcd_->put("/sluice/other/x", "10.0.0.9:80"));  // outside the prefix
  ResolverProbe probe(etcd_->endpoint());
  ASSERT_TRUE(probe.wait_set({"10.0.0.1:80"}));
  ASSERT_TRUE(probe.wait_error(1));
  EXPECT_NE(probe.errors()[0].find("key /sluice/backends/bad: "), std::string::npos)
      << probe.errors()[0];
  // Each change arrives well within 100 ms of its commit.
  for (int i = 2; i <= 4; ++i) {
    put("n" + std::to_string(i), R"({"address":"10.0.0.)" + std::to_string(i) + R"(:80"})");
    const auto before = Clock::now();
    Addresses want;
    for (int j = 1; j <= i; ++j) want.push_back("10.0.0." + std::to_string(j) + ":80");
    ASSERT_TRUE(probe.wait_set(want));
    EXPECT_LT(Clock::now() - before, 100ms);
  }
  remove("a");
  EXPECT_TRUE(probe.wait_set({"10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80"}));
}

TEST_F(EtcdTest, ResolverResumesFromItsLastRevisionWhenEtcdComesBack) {
  put("a", "10.0.0.1:80");
  put("b", "10.0.0.2:80");
  // A long first backoff, so the changes below happen while the watch is down.
  ResolverProbe probe(etcd_->endpoint(), 2s);
  ASSERT_TRUE(probe.wait_set({"10.0.0.1:80", "10.0.0.2:80"}));
  ASSERT_TRUE(etcd_->stop());
  ASSERT_TRUE(probe.wait_error(1));  // reported, and the set stays
  auto restarted = etcd_->restart();
  ASSERT_TRUE(restarted) << restarted.error();
  put("c", "10.0.0.3:80");
  remove("a");
  EXPECT_TRUE(probe.wait_set({"10.0.0.2:80", "10.0.0.3:80"}, 8s));
  // Never a set with an endpoint from nowhere or with "a" back after its deletion.
  bool deleted = false;
  for (const auto& set : probe.sets()) {
    for (const auto& address : set) EXPECT_NE(address, "10.0.0.9:80");
    const bool has_a = std::count(set.begin(), set.end(), "10.0.0.1:80") > 0;
    if (deleted) {
      EXPECT_FALSE(has_a);
    }
    if (!has_a) deleted = true;
  }
}

TEST_F(EtcdTest, ResolverReadsTheRangeAgainWhenItsHistoryWasCompacted) {
  put("a", "10.0.0.1:80");
  ResolverProbe probe(etcd_->endpoint(), 2s);
  ASSERT_TRUE(probe.wait_set({"10.0.0.1:80"}));
  ASSERT_TRUE(etcd_->stop());
  ASSERT_TRUE(etcd_->restart());
  put("b", "10.0.0.2:80");
  remove("a");
  auto last = etcd_->put(std::string(kPrefix) + "c", "10.0.0.3:80");
  ASSERT_TRUE(last) << last.error();
  auto compacted = etcd_->compact(*last);
  ASSERT_TRUE(compacted) << compacted.error();
  EXPECT_TRUE(probe.wait_set({"10.0.0.2:80", "10.0.0.3:80"}, 8s));
}

TEST_F(EtcdTest, RegistrationComesBackWhenItsLeaseIsLostAndDeregisterRemovesIt) {
  const std::string key = std::string(kPrefix) + "svc-1";
  discovery::EtcdRegistration registration(
      {{*config::parse_host_port(etcd_->endpoint())}, key, R"({"address":"10.0.0.1:80"})", 2s});
  ASSERT_TRUE(registration.wait_registered(5s));
  auto lease = etcd_->lease_of(key);
  ASSERT_TRUE(lease) << lease.error();
  ASSERT_NE(*lease, 0);
  ASSERT_TRUE(etcd_->revoke(*lease));  // as if it had expired
  // The next keepalive (every TTL/3) finds the lease gone: a new lease, the key again.
  int64_t again = 0;
  for (auto until = Clock::now() + 3s; Clock::now() < until && again == 0;) {
    std::this_thread::sleep_for(20ms);
    auto l = etcd_->lease_of(key);
    ASSERT_TRUE(l) << l.error();
    again = *l;
  }
  EXPECT_NE(again, 0) << "not registered again";
  EXPECT_NE(again, *lease);
  auto gone = registration.deregister();
  ASSERT_TRUE(gone) << gone.error();
  auto keys = etcd_->range(kPrefix);
  ASSERT_TRUE(keys) << keys.error();
  EXPECT_TRUE(keys->empty());
}

// The proxy with testservers that register themselves.
class EtcdDiscoveryTest : public EtcdTest {
 protected:
  // Testservers n<from>..n<to-1>; each is in etcd once start() returns.
  void add_backends(int from, int to, const std::string& ttl = "5s") {
    for (int i = from; i < to; ++i) {
      auto s = TestServer::start(
          "n" + std::to_string(i),
          {"--register", "etcd://" + etcd_->endpoint() + kPrefix, "--register-ttl", ttl});
      ASSERT_TRUE(s) << s.error();
      backends_.push_back(std::move(*s));
    }
  }
  void start_proxy() {
    std::string yaml = SluiceProcess::discovery_config(
        "{type: etcd, endpoints: [\"" + etcd_->endpoint() + "\"], prefix: " + kPrefix + "}");
    auto p = SluiceProcess::start(yaml);
    ASSERT_TRUE(p) << p.error();
    proxy_ = std::make_unique<SluiceProcess>(std::move(*p));
  }
  // The cluster's entry in /clusters.
  nlohmann::json cluster() {
    auto body = proxy_->admin_get("/clusters");
    if (!body) return {};
    auto json = nlohmann::json::parse(*body, nullptr, false);
    if (json.is_discarded() || json["clusters"].empty()) return {};
    return json["clusters"][0];
  }
  Addresses proxy_endpoints() {
    Addresses out;
    auto c = cluster();
    if (c.is_null()) return out;
    for (const auto& e : c["endpoints"]) out.push_back(e["address"].get<std::string>());
    std::sort(out.begin(), out.end());
    return out;
  }
  Addresses addresses(int from, int to) {
    Addresses out;
    for (int i = from; i < to; ++i) out.push_back(backends_[i].address());
    std::sort(out.begin(), out.end());
    return out;
  }
  bool wait_endpoints(const Addresses& want, std::chrono::milliseconds timeout = 5s) {
    for (auto until = Clock::now() + timeout; Clock::now() < until;) {
      if (proxy_endpoints() == want) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  std::vector<TestServer> backends_;
  std::unique_ptr<SluiceProcess> proxy_;
};

TEST_F(EtcdDiscoveryTest, ScaleOutReachesFairShareWithinOneSecond) {
  ASSERT_NO_FATAL_FAILURE(add_backends(0, 3));
  ASSERT_NO_FATAL_FAILURE(start_proxy());
  ASSERT_TRUE(wait_endpoints(addresses(0, 3)));
  RecordingLoad load(make_channel(proxy_->address()), 16, 2);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(load.between(Clock::now() - 500ms, Clock::now()).size(), 3u);
  ASSERT_NO_FATAL_FAILURE(add_backends(3, 8));
  const auto changed = Clock::now();  // the last one is registered
  std::this_thread::sleep_for(1500ms);
  auto window = load.between(changed + 500ms, changed + 1000ms);
  load.stop();
  expect_fair_share(window, 3, 8);
  EXPECT_TRUE(load.failures().empty()) << load.failures().front();
  EXPECT_EQ(cluster()["discovery"]["source"], "etcd:" + etcd_->endpoint() + kPrefix);
}

TEST_F(EtcdDiscoveryTest, AChangeReachesTheWorkersWithin100ms) {
  ASSERT_NO_FATAL_FAILURE(add_backends(0, 2));
  auto late = TestServer::start("late");  // not registered: the test writes its key
  ASSERT_TRUE(late) << late.error();
  ASSERT_NO_FATAL_FAILURE(start_proxy());
  ASSERT_TRUE(wait_endpoints(addresses(0, 2)));
  RecordingLoad load(make_channel(proxy_->address()), 16, 1);
  std::this_thread::sleep_for(500ms);
  put("late", late->address());
  const auto changed = Clock::now();  // committed (etcd's fsync is not ours to measure)
  std::this_thread::sleep_for(500ms);
  auto first = 0ms;
  while (first < 500ms && load.between(changed, changed + first)["late"] == 0) first += 2ms;
  load.stop();
  EXPECT_LT(first, 100ms) << "first call on the new backend " << first.count()
                          << " ms after the put";
  EXPECT_TRUE(load.failures().empty()) << load.failures().front();
}

TEST_F(EtcdDiscoveryTest, ScaleInByDeregistrationLosesNoCall) {
  ASSERT_NO_FATAL_FAILURE(add_backends(0, 8));
  ASSERT_NO_FATAL_FAILURE(start_proxy());
  ASSERT_TRUE(wait_endpoints(addresses(0, 8)));
  RecordingLoad load(make_channel(proxy_->address()), 16, 2);
  std::this_thread::sleep_for(1s);
  const auto changed = Clock::now();
  // SIGTERM: each deregisters, then drains.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(backends_[i].process().send_signal(SIGTERM));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(backends_[i].process().wait_exit(10s), 0) << "n" << i;
  std::this_thread::sleep_for(changed + 1500ms - Clock::now());
  auto after = load.between(changed + 500ms, Clock::now());
  load.stop();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(after["n" + std::to_string(i)], 0) << "n" << i;
  for (int i = 5; i < 8; ++i) EXPECT_GT(after["n" + std::to_string(i)], 0) << "n" << i;
  auto failures = load.failures();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
  EXPECT_EQ(proxy_endpoints(), addresses(5, 8));
}

TEST_F(EtcdDiscoveryTest, EtcdRestartUnderLoadLosesNoEndpointAndMissesNoEvent) {
  ASSERT_NO_FATAL_FAILURE(add_backends(0, 3));
  ASSERT_NO_FATAL_FAILURE(start_proxy());
  ASSERT_TRUE(wait_endpoints(addresses(0, 3)));
  ResolverProbe probe(etcd_->endpoint());  // every set a resolver sees, for the check below
  ASSERT_TRUE(probe.wait_set(addresses(0, 3)));
  RecordingLoad load(make_channel(proxy_->address()), 8, 2);
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(etcd_->stop());
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(proxy_endpoints(), addresses(0, 3));  // the last good set serves meanwhile
  auto restarted = etcd_->restart();
  ASSERT_TRUE(restarted) << restarted.error();
  // Registered at once, most likely before the proxy's watch is back: it must resume from its
  // last revision to see this.
  ASSERT_NO_FATAL_FAILURE(add_backends(3, 4));
  EXPECT_TRUE(wait_endpoints(addresses(0, 4), 8s)) << ::testing::PrintToString(proxy_endpoints());
  std::this_thread::sleep_for(500ms);
  auto seen = load.between(Clock::now() - 500ms, Clock::now());
  load.stop();
  EXPECT_EQ(seen.size(), 4u);
  auto failures = load.failures();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
  auto keys = etcd_->range(kPrefix);
  ASSERT_TRUE(keys) << keys.error();
  EXPECT_EQ(keys->size(), 4u);
  // No registration was lost (a lease that expired and was re-granted would show as a set
  // without its backend) and none duplicated.
  EXPECT_TRUE(probe.wait_set(addresses(0, 4)));
  for (const auto& set : probe.sets()) {
    for (const auto& address : addresses(0, 3)) {
      EXPECT_EQ(std::count(set.begin(), set.end(), address), 1)
          << address << " missing from " << ::testing::PrintToString(set);
    }
  }
  auto c = cluster();
  EXPECT_GE(c["discovery"]["errors"].get<int>(), 1);  // the outage was reported...
  EXPECT_EQ(c["discovery"]["last_error"], "");        // ...and is over
}

TEST_F(EtcdDiscoveryTest, AKilledBackendVanishesWhenItsLeaseExpires) {
  ASSERT_NO_FATAL_FAILURE(add_backends(0, 3, "2s"));
  ASSERT_NO_FATAL_FAILURE(start_proxy());
  ASSERT_TRUE(wait_endpoints(addresses(0, 3)));
  const auto killed = Clock::now();
  ASSERT_TRUE(backends_[0].process().send_signal(SIGKILL));  // no deregistration
  ASSERT_TRUE(wait_endpoints(addresses(1, 3), 6s));
  const auto after = Clock::now() - killed;
  // Kept alive every TTL/3, so the lease had at least 2/3 of its 2 s left.
  EXPECT_GE(after, 1s);
  EXPECT_LT(after, 4s);
}

}  // namespace
}  // namespace sluice::testing
