// Attacks on the downstream side, written frame by frame: rapid reset (CVE-2023-44487), a
// CONTINUATION flood, SETTINGS and empty-DATA floods. Each offender gets GOAWAY
// ENHANCE_YOUR_CALM; the proxy stays up, its memory stays flat, a well-behaved client's calls
// keep succeeding throughout, and the resets never become a storm of upstream streams.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <atomic>
#include <string>
#include <thread>

#include "integration/h2_attacker.h"
#include "integration/sluice_process.h"
#include "integration/wait_until.h"
#include "sluice/test/v1/test.grpc.pb.h"
#include "support/grpc_helpers.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
constexpr const char* kPath = "/sluice.test.v1.TestService/Unary";

// A well-behaved client making calls in a loop on its own connection while an attack runs.
class BystanderCalls {
 public:
  explicit BystanderCalls(const std::string& address)
      : stub_(sluice::test::v1::TestService::NewStub(make_channel(address))), thread_([this] {
          while (!stop_) {
            grpc::ClientContext ctx;
            ctx.set_deadline(std::chrono::system_clock::now() + 5s);
            sluice::test::v1::CallRequest req;
            sluice::test::v1::CallResponse resp;
            (stub_->Unary(&ctx, req, &resp).ok() ? ok_ : failed_)++;
          }
        }) {}
  int ok() const { return ok_.load(); }
  // Stops and returns {ok, failed}.
  std::pair<int, int> finish() {
    stop_ = true;
    thread_.join();
    return {ok_.load(), failed_.load()};
  }

 private:
  std::unique_ptr<sluice::test::v1::TestService::Stub> stub_;
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0}, failed_{0};
  std::thread thread_;
};

class ProxyAbuseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = TestServer::start("b0");
    ASSERT_TRUE(s) << s.error();
    backend_ = std::make_unique<TestServer>(std::move(*s));
    auto p = SluiceProcess::start(SluiceProcess::simple_config({backend_->address()}, 1));
    ASSERT_TRUE(p) << p.error();
    proxy_ = std::make_unique<SluiceProcess>(std::move(*p));
    baseline_kib_ = proxy_->rss_kib();
    bystander_ = std::make_unique<BystanderCalls>(proxy_->address());
  }
  void TearDown() override {
    if (!proxy_) return;
    // The attack may be over before the bystander's first call (its channel still connecting on
    // a busy machine): its calls must go on after the attack, so wait for one.
    EXPECT_TRUE(wait_until([&] { return bystander_->ok() > 0; }, 10s));
    auto [ok, failed] = bystander_->finish();
    EXPECT_GT(ok, 0) << "the other client's calls went on";
    EXPECT_EQ(failed, 0);
    ASSERT_TRUE(proxy_->process().running());
    EXPECT_LT(proxy_->rss_kib() - baseline_kib_, 32 * 1024) << "proxy memory stayed flat";
    EXPECT_EQ(proxy_->flow_imbalance(), "");
  }
  uint64_t backend_calls() {
    auto stats = backend_->stats();
    EXPECT_TRUE(stats) << stats.error();
    return stats ? stats->calls_total() : 0;
  }
  long abuse_goaways(const std::string& reason) {
    return proxy_->metric("sluice_downstream_abuse_goaways_total{reason=\"" + reason + "\"}");
  }

  std::unique_ptr<TestServer> backend_;
  std::unique_ptr<SluiceProcess> proxy_;
  std::unique_ptr<BystanderCalls> bystander_;
  long baseline_kib_ = 0;
};

TEST_F(ProxyAbuseTest, RapidResetGetsCalmGoawayAndFewUpstreamStreams) {
  const uint64_t backend_before = backend_calls();
  H2Attacker attacker(proxy_->address());
  ASSERT_TRUE(attacker.connected());
  // 20000 streams opened and cancelled at once, 100 to a write: far over the reset budget
  // (1000, then 100/s), and each would be an upstream call if the proxy let it through.
  int sent = 0;
  for (uint32_t batch = 0; batch < 200; ++batch) {
    std::string bytes;
    for (uint32_t i = 0; i < 100; ++i) {
      const uint32_t id = 2 * (batch * 100 + i) + 1;
      bytes += attacker.request_headers(id, kPath, /*end_stream=*/false);
      bytes += H2Attacker::frame(NGHTTP2_RST_STREAM, 0, id, std::string("\0\0\0\x08", 4));
    }
    if (!attacker.send(bytes)) break;
    sent += 100;
  }
  auto out = attacker.read_until_closed(5s);
  EXPECT_TRUE(out.goaway);
  EXPECT_EQ(out.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_EQ(out.goaway_debug, "too_many_resets");
  EXPECT_TRUE(out.closed);
  EXPECT_EQ(abuse_goaways("resets"), 1);
  // Streams cancelled in the same read as their HEADERS never leave the proxy.
  const uint64_t upstream = backend_calls() - backend_before;
  std::printf("rapid reset: %d streams sent, %lu reached the backend\n", sent,
              static_cast<unsigned long>(upstream));
  EXPECT_LT(upstream, 200u);
}

TEST_F(ProxyAbuseTest, ContinuationFloodIsCut) {
  H2Attacker attacker(proxy_->address());
  ASSERT_TRUE(attacker.connected());
  std::string bytes = attacker.request_headers(1, kPath, /*end_stream=*/true, /*more_follow=*/true);
  for (int i = 0; i < 10000; ++i) {
    bytes += H2Attacker::frame(NGHTTP2_CONTINUATION, 0, 1,
                               attacker.header_field("x-flood", std::to_string(i)));
  }
  attacker.send(bytes);  // may fail part way: the proxy closes
  auto out = attacker.read_until_closed(5s);
  EXPECT_TRUE(out.closed);
  EXPECT_TRUE(out.goaway);
  EXPECT_EQ(out.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_EQ(abuse_goaways("continuations"), 1);
}

TEST_F(ProxyAbuseTest, SettingsFloodIsCut) {
  H2Attacker attacker(proxy_->address());
  ASSERT_TRUE(attacker.connected());
  std::string bytes;
  for (int i = 0; i < 5000; ++i) bytes += H2Attacker::frame(NGHTTP2_SETTINGS, 0, 0, "");
  attacker.send(bytes);
  auto out = attacker.read_until_closed(5s);
  EXPECT_TRUE(out.closed);
  EXPECT_TRUE(out.goaway);
  EXPECT_EQ(out.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_EQ(abuse_goaways("settings") + abuse_goaways("flood"), 1);
}

TEST_F(ProxyAbuseTest, EmptyDataFloodIsCut) {
  H2Attacker attacker(proxy_->address());
  ASSERT_TRUE(attacker.connected());
  std::string bytes = attacker.request_headers(1, kPath, /*end_stream=*/false);
  for (int i = 0; i < 5000; ++i) bytes += H2Attacker::frame(NGHTTP2_DATA, 0, 1, "");
  attacker.send(bytes);
  auto out = attacker.read_until_closed(5s);
  EXPECT_TRUE(out.closed);
  EXPECT_TRUE(out.goaway);
  EXPECT_EQ(out.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_EQ(out.goaway_debug, "too_many_empty_data_frames");
  EXPECT_EQ(abuse_goaways("empty_data"), 1);
}

}  // namespace
}  // namespace sluice::testing
