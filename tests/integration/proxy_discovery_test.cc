// File discovery: membership follows the endpoints file at once. Scale-out: new backends get
// their fair share within a second; scale-in loses no call; a bad file changes nothing.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

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
using Clock = RecordingLoad::Clock;

class FileDiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 8; ++i) {
      auto s = TestServer::start("n" + std::to_string(i));
      ASSERT_TRUE(s) << s.error();
      backends_.push_back(std::move(*s));
    }
    char dir[] = "/tmp/sluice-disco-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    file_ = dir_ + "/backends.yaml";
    write_endpoints(0, 3);
    std::string yaml = SluiceProcess::discovery_config("{type: file, path: " + file_ + "}");
    auto p = SluiceProcess::start(yaml);
    ASSERT_TRUE(p) << p.error();
    proxy_ = std::make_unique<SluiceProcess>(std::move(*p));
  }
  void TearDown() override {
    if (proxy_ && proxy_->process().running()) {
      EXPECT_EQ(proxy_->flow_imbalance(), "");
    }
    std::remove(file_.c_str());
    std::remove((file_ + ".tmp").c_str());
    rmdir(dir_.c_str());
  }
  // Backends [from, to) become the endpoints, by an atomic rename as deploy tools do.
  void write_endpoints(int from, int to) {
    std::ofstream out(file_ + ".tmp");
    for (int i = from; i < to; ++i) out << "- " << backends_[i].address() << "\n";
    out.close();
    std::rename((file_ + ".tmp").c_str(), file_.c_str());
  }

  // Endpoints the proxy balances over now.
  long endpoints() const {
    return proxy_->metric("sluice_cluster_endpoints{cluster=\"backends\"}");
  }
  // Endpoints files the proxy read and rejected so far.
  long rejected_files() const {
    auto page = proxy_->admin_get("/clusters");
    if (!page) return -1;
    return nlohmann::json::parse(*page)["clusters"][0]["discovery"]["errors"].get<long>();
  }

  std::vector<TestServer> backends_;
  std::string dir_, file_;
  std::unique_ptr<SluiceProcess> proxy_;
};

TEST_F(FileDiscoveryTest, ScaleOutReachesFairShareWithinOneSecond) {
  RecordingLoad load(make_channel(proxy_->address()), 16, 2);
  std::this_thread::sleep_for(1s);
  auto before = load.between(Clock::now() - 500ms, Clock::now());
  EXPECT_EQ(before.size(), 3u);
  const auto changed = Clock::now();
  write_endpoints(0, 8);
  std::this_thread::sleep_for(1500ms);
  // The second after the change's first 500 ms: every one of the 8 near 1/8 of the calls.
  auto window = load.between(changed + 500ms, changed + 1000ms);
  load.stop();
  expect_fair_share(window, 3, 8);
  EXPECT_TRUE(load.failures().empty()) << load.failures().front();
  auto clusters = proxy_->admin_get("/clusters");
  ASSERT_TRUE(clusters) << clusters.error();
  EXPECT_NE(clusters->find("file:" + file_), std::string::npos) << *clusters;
}

TEST_F(FileDiscoveryTest, ScaleInLosesNoCall) {
  write_endpoints(0, 8);
  ASSERT_TRUE(wait_until([&] { return endpoints() == 8; })) << "the 8 endpoints never applied";
  RecordingLoad load(make_channel(proxy_->address()), 16, 2);
  std::this_thread::sleep_for(1s);
  const auto changed = Clock::now();
  write_endpoints(5, 8);
  std::this_thread::sleep_for(1500ms);
  auto after = load.between(changed + 500ms, Clock::now());
  load.stop();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(after["n" + std::to_string(i)], 0) << "n" << i;
  auto failures = load.failures();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
}

TEST_F(FileDiscoveryTest, BadFileIsRejectedAndTheLastGoodSetKeepsServing) {
  {
    std::ofstream out(file_ + ".tmp");
    out << "- " << backends_[4].address() << "\n- not an address\n";
  }
  std::rename((file_ + ".tmp").c_str(), file_.c_str());
  ASSERT_TRUE(wait_until([&] { return rejected_files() == 1; })) << "the bad file was not read";
  EXPECT_EQ(endpoints(), 3);
  RecordingLoad load(make_channel(proxy_->address()), 4, 2);
  std::this_thread::sleep_for(500ms);
  auto seen = load.between(Clock::now() - 500ms, Clock::now());
  load.stop();
  EXPECT_EQ(seen.size(), 3u);
  for (auto& [id, n] : seen) EXPECT_TRUE(id == "n0" || id == "n1" || id == "n2") << id;
  auto clusters = proxy_->admin_get("/clusters");
  ASSERT_TRUE(clusters) << clusters.error();
  EXPECT_NE(clusters->find("entry 1 (line 2)"), std::string::npos) << *clusters;
  auto metrics = proxy_->admin_get("/metrics");
  ASSERT_TRUE(metrics) << metrics.error();
  EXPECT_NE(metrics->find("sluice_discovery_errors_total{cluster=\"backends\",source=\"file:" +
                          file_ + "\"} 1"),
            std::string::npos)
      << *metrics;
}

// Static endpoints given by name are looked up on the control thread (hosts file, then DNS),
// every address becomes an endpoint, and a name that does not resolve costs nothing but
// itself: workers never block on a lookup.
TEST(StaticNames, AreResolvedOffTheWorkersAndEveryAddressIsUsed) {
  auto backend = TestServer::start("named");
  ASSERT_TRUE(backend) << backend.error();
  const std::string port = backend->address().substr(backend->address().rfind(':') + 1);
  auto proxy = SluiceProcess::start(
      SluiceProcess::simple_config({"localhost:" + port, "no-such-host.invalid:" + port}));
  ASSERT_TRUE(proxy) << proxy.error();
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy->address()));
  for (int i = 0; i < 50; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    sluice::test::v1::CallRequest req;
    sluice::test::v1::CallResponse resp;
    auto status = stub->Unary(&ctx, req, &resp);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  auto clusters = proxy->admin_get("/clusters");
  ASSERT_TRUE(clusters) << clusters.error();
  EXPECT_NE(clusters->find("\"127.0.0.1:" + port + "\""), std::string::npos) << *clusters;
  EXPECT_EQ(clusters->find("localhost"), std::string::npos) << "names never reach the pools";
  EXPECT_EQ(clusters->find("invalid"), std::string::npos) << *clusters;
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

}  // namespace
}  // namespace sluice::testing
