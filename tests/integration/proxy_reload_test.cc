// Hot reload: SIGHUP or POST /reload re-reads the config; clusters and routes change for new
// calls without dropping connections or calls; a bad config is rejected and the old one serves.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* id : {"a", "b"}) {
      auto s = TestServer::start(id);
      ASSERT_TRUE(s) << s.error();
      backends_.push_back(std::move(*s));
    }
    auto p = SluiceProcess::start(SluiceProcess::simple_config({backends_[0].address()}));
    ASSERT_TRUE(p) << p.error();
    proxy_ = std::make_unique<SluiceProcess>(std::move(*p));
    channel_ = make_channel(proxy_->address());
    stub_ = sluice::test::v1::TestService::NewStub(channel_);
  }
  // Every scenario leaves the flow-control books balanced (SluiceProcess::flow_imbalance).
  void TearDown() override {
    if (proxy_ && proxy_->process().running()) {
      EXPECT_EQ(proxy_->flow_imbalance(), "");
    }
  }

  std::vector<TestServer> backends_;
  std::unique_ptr<SluiceProcess> proxy_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<sluice::test::v1::TestService::Stub> stub_;
};

// The proxy's count of OK calls to `backend`.
long ok_calls(const SluiceProcess& proxy, const TestServer& backend) {
  return proxy.metric("sluice_calls_total{cluster=\"backends\",endpoint=\"" + backend.address() +
                      "\",grpc_status=\"OK\"}");
}

TEST_F(ReloadTest, ClustersChangeUnderLoadWithoutAFailedCall) {
  RecordingLoad load(channel_, 8, 5);
  ASSERT_TRUE(wait_until([&] { return load.counts()["a"] > 0; })) << "no call reached a";
  // Add endpoint b (SIGHUP): applied once the reload counter says so, then b gets calls.
  proxy_->rewrite_config(
      SluiceProcess::simple_config({backends_[0].address(), backends_[1].address()}));
  ASSERT_TRUE(proxy_->process().send_signal(SIGHUP));
  ASSERT_TRUE(wait_until([&] {
    return proxy_->metric("sluice_config_reloads_total{result=\"ok\"}") == 1;
  })) << "the SIGHUP reload was not applied";
  ASSERT_TRUE(wait_until([&] { return load.counts()["b"] >= 50; }))
      << "the added endpoint gets no calls after the reload";
  const long b_ok_before = ok_calls(*proxy_, backends_[1]);
  EXPECT_GT(b_ok_before, 0);
  // Remove endpoint a (POST /reload answers once the new config is published).
  proxy_->rewrite_config(SluiceProcess::simple_config({backends_[1].address()}));
  auto [status, body] = proxy_->admin_request("POST", "/reload");
  EXPECT_EQ(status, 200) << body;
  EXPECT_EQ(proxy_->metric("sluice_config_reloads_total{result=\"ok\"}"), 2);
  // Calls already on a finish; then a gets nothing more while b keeps serving.
  int a_after_removal = -1;
  ASSERT_TRUE(wait_until([&] {
    const int before = load.counts()["a"];
    std::this_thread::sleep_for(100ms);  // a call takes 5 ms: 100 ms without one on a
    a_after_removal = load.counts()["a"];
    return a_after_removal == before;
  }));
  const int b_at_removal = load.counts()["b"];
  ASSERT_TRUE(wait_until([&] { return load.counts()["b"] >= b_at_removal + 200; }));
  load.stop();
  EXPECT_EQ(load.counts()["a"], a_after_removal) << "a removed endpoint gets no new calls";
  const auto failures = load.failures();
  for (size_t i = 0; i < failures.size() && i < 5; ++i) ADD_FAILURE() << failures[i];
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed calls";
  // The counters of b, which stayed, kept counting across both reloads: the proxy counted
  // every call b served (none reached b but through the proxy).
  auto b_stats = backends_[1].stats();
  ASSERT_TRUE(b_stats) << b_stats.error();
  EXPECT_GT(ok_calls(*proxy_, backends_[1]), b_ok_before);
  EXPECT_EQ(ok_calls(*proxy_, backends_[1]), static_cast<long>(b_stats->calls_total()));
  EXPECT_EQ(ok_calls(*proxy_, backends_[1]), load.counts()["b"]);
}

// A reload soak: 300 reloads, every one changing the endpoint set and the policy, half by
// SIGHUP and half by POST /reload, while 8 callers keep calls going without a pause. Not one
// call may fail, every reload must apply, and the proxy must not grow with the reloads.
TEST_F(ReloadTest, ThreeHundredReloadsUnderLoadLoseNoCallAndLeakNothing) {
  auto c = TestServer::start("c");
  ASSERT_TRUE(c) << c.error();
  const std::string a = backends_[0].address(), b = backends_[1].address(), cc = c->address();
  const std::vector<std::vector<std::string>> sets = {{a, b}, {b, cc}, {a, cc}, {a, b, cc}, {cc}};
  const char* policies[] = {"round_robin", "least_request", "peak_ewma", "random",
                            "{name: ring_hash, hash_header: x-user-id}"};
  RecordingLoad load(channel_, 8, 0);
  ASSERT_TRUE(wait_until([&] { return load.succeeded() > 100; }));
  constexpr int kReloads = 300;
  [[maybe_unused]] long rss_after_warmup = 0;
  for (int i = 1; i <= kReloads; ++i) {
    proxy_->rewrite_config(SluiceProcess::simple_config(
        sets[i % sets.size()], 1,
        std::string("    policy: ") + policies[(i / sets.size()) % 5] + "\n"));
    const size_t calls_before = load.succeeded();
    if (i % 2 == 0) {
      ASSERT_TRUE(proxy_->process().send_signal(SIGHUP));
    } else {
      auto [status, body] = proxy_->admin_request("POST", "/reload");
      ASSERT_EQ(status, 200) << body;
    }
    ASSERT_TRUE(wait_until([&] {
      return proxy_->metric("sluice_config_reloads_total{result=\"ok\"}") == i;
    })) << "reload "
        << i << " was not applied";
    // Calls go on between reloads (so the reloads really land under load).
    ASSERT_TRUE(wait_until([&] { return load.succeeded() >= calls_before + 20; })) << i;
    if (i == 50) rss_after_warmup = proxy_->rss_kib();
  }
  load.stop();
  const auto failures = load.failures();
  for (size_t i = 0; i < failures.size() && i < 5; ++i) ADD_FAILURE() << failures[i];
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed calls";
  EXPECT_EQ(proxy_->metric("sluice_config_reloads_total{result=\"rejected\"}"), 0);
  // The last reload's set (300 % 5 = 0: {a, b}) is what serves.
  EXPECT_EQ(proxy_->metric("sluice_cluster_endpoints{cluster=\"backends\"}"), 2);
  // Every backend call came through the proxy, and each one was counted there.
  uint64_t served = 0;
  for (auto* server : {&backends_[0], &backends_[1], &*c}) {
    auto stats = server->stats();
    ASSERT_TRUE(stats) << stats.error();
    served += stats->calls_total();
  }
  EXPECT_EQ(served, load.succeeded());
  // 250 reloads after the first 50 hold memory flat (a leak of 8 KiB per reload shows), where
  // the allocator gives memory back: not ASan's (quarantine), nor another build's of sluice.
#if !defined(__SANITIZE_ADDRESS__)
  if (std::getenv("SLUICE_TEST_SLUICE_BIN") == nullptr) {
    const long rss_end = proxy_->rss_kib();
    EXPECT_LT(rss_end - rss_after_warmup, 2048)
        << "RSS after 50 reloads " << rss_after_warmup << " KiB, after 300 " << rss_end << " KiB";
  }
#endif
}

TEST_F(ReloadTest, BadConfigIsRejectedAndTheOldOneKeepsServing) {
  proxy_->rewrite_config("listeners: [\n  this is not yaml\n");
  auto [status, body] = proxy_->admin_request("POST", "/reload");
  EXPECT_EQ(status, 400);
  EXPECT_NE(body.find("reload rejected"), std::string::npos) << body;
  EXPECT_NE(body.find(".yaml:3:1: "), std::string::npos)
      << "the error names file and line: " << body;
  const std::string rejected = "sluice_config_reloads_total{result=\"rejected\"}";
  EXPECT_EQ(proxy_->metric(rejected), 1);
  ASSERT_TRUE(proxy_->process().send_signal(SIGHUP));  // also rejected, logged
  ASSERT_TRUE(wait_until([&] { return proxy_->metric(rejected) == 2; }))
      << "the SIGHUP was not handled";
  EXPECT_EQ(proxy_->metric("sluice_config_reloads_total{result=\"ok\"}"), 0);
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    CallRequest req;
    CallResponse resp;
    auto s = stub_->Unary(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.backend_id(), "a");
  }
}

// A plain TCP connect to `address` ("127.0.0.1:PORT"): whether anyone listens there.
bool accepts_connections(const std::string& address) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1))));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

grpc::Status unary(sluice::test::v1::TestService::Stub& stub, uint32_t delay_ms = 0) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  CallRequest req;
  req.set_delay_ms(delay_ms);
  CallResponse resp;
  return stub.Unary(&ctx, req, &resp);
}

TEST_F(ReloadTest, ListenersAreAddedAndRemovedWithoutDroppingCalls) {
  // Add listener "second".
  const std::string main_listener = "  - name: main\n    address: 127.0.0.1:0\n";
  const std::string second_listener = "  - name: second\n    address: 127.0.0.1:0\n";
  std::string both = SluiceProcess::simple_config({backends_[0].address()});
  both.insert(both.find(main_listener) + main_listener.size(), second_listener);
  proxy_->rewrite_config(both);
  auto [status, body] = proxy_->admin_request("POST", "/reload");
  ASSERT_EQ(status, 200) << body;
  auto line = proxy_->process().read_line(5s);
  ASSERT_TRUE(line && line->rfind("listening on ", 0) == 0) << line.value_or("(no line)");
  const std::string second = line->substr(std::string("listening on ").size());
  auto second_stub = sluice::test::v1::TestService::NewStub(make_channel(second));
  EXPECT_TRUE(unary(*second_stub).ok());
  EXPECT_TRUE(unary(*stub_).ok()) << "the first listener still serves";

  // Remove "main" while a call runs on it: the call finishes, the port stops accepting.
  grpc::Status slow_status;
  std::thread slow([&] { slow_status = unary(*stub_, 1500); });
  ASSERT_TRUE(wait_until([&] { return proxy_->metric("sluice_calls_in_flight") == 1; }))
      << "the slow call never started";
  std::string only_second = both;
  only_second.erase(only_second.find(main_listener), main_listener.size());
  proxy_->rewrite_config(only_second);
  auto [status2, body2] = proxy_->admin_request("POST", "/reload");
  ASSERT_EQ(status2, 200) << body2;
  slow.join();
  EXPECT_TRUE(slow_status.ok()) << "a call in flight on a removed listener finishes: "
                                << slow_status.error_message();
  EXPECT_FALSE(accepts_connections(proxy_->address()));
  EXPECT_TRUE(accepts_connections(second));
  EXPECT_TRUE(unary(*second_stub).ok()) << "the listener that stayed kept its port";
}

TEST_F(ReloadTest, ListenerThatCannotBindRejectsTheWholeReload) {
  // The admin endpoint's port is taken (without SO_REUSEPORT): a listener there cannot bind.
  std::string taken = SluiceProcess::simple_config({backends_[1].address()});
  const std::string main_listener = "  - name: main\n    address: 127.0.0.1:0\n";
  taken.insert(taken.find(main_listener) + main_listener.size(),
               "  - name: clash\n    address: " + proxy_->admin_address() + "\n");
  proxy_->rewrite_config(taken);
  auto [status, body] = proxy_->admin_request("POST", "/reload");
  EXPECT_EQ(status, 400);
  EXPECT_NE(body.find("listener clash"), std::string::npos) << body;
  // Nothing changed: still backend a (the rejected config routed to b).
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  CallRequest req;
  CallResponse resp;
  ASSERT_TRUE(stub_->Unary(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.backend_id(), "a");
}

}  // namespace
}  // namespace sluice::testing
