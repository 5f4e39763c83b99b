// What sluice puts on the wire, seen by a raw HTTP/2 client: Trailers-Only stays one HEADERS
// frame, and requests the proxy cannot forward get the status the gRPC spec prescribes.
#include <gtest/gtest.h>

#include <chrono>

#include "integration/raw_h2_client.h"
#include "integration/sluice_process.h"
#include "sluice/test/v1/test.pb.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kUnary = "/sluice.test.v1.TestService/Unary";

class ProxyWireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = TestServer::start("w0");
    ASSERT_TRUE(s) << s.error();
    backend_ = std::make_unique<TestServer>(std::move(*s));
    auto p = SluiceProcess::start(SluiceProcess::simple_config({backend_->address()}));
    ASSERT_TRUE(p) << p.error();
    proxy_ = std::make_unique<SluiceProcess>(std::move(*p));
  }
  // Every scenario leaves the flow-control books balanced (SluiceProcess::flow_imbalance).
  void TearDown() override {
    if (proxy_ && proxy_->process().running()) {
      EXPECT_EQ(proxy_->flow_imbalance(), "");
    }
  }
  std::unique_ptr<TestServer> backend_;
  std::unique_ptr<SluiceProcess> proxy_;
};

std::string failing_request(int code) {
  sluice::test::v1::CallRequest req;
  req.set_status_code(code);
  req.set_status_message("failed on purpose");
  return req.SerializeAsString();
}

TEST_F(ProxyWireTest, TrailersOnlyStaysTrailersOnly) {
  auto direct = raw_grpc_request(backend_->address(), kUnary, failing_request(5), 5s);
  ASSERT_TRUE(direct) << direct.error();
  ASSERT_TRUE(direct->first_headers_end_stream);  // the backend answers Trailers-Only
  auto proxied = raw_grpc_request(proxy_->address(), kUnary, failing_request(5), 5s);
  ASSERT_TRUE(proxied) << proxied.error();
  EXPECT_TRUE(proxied->first_headers_end_stream);
  EXPECT_EQ(proxied->header_frames, 1);
  EXPECT_EQ(proxied->header("grpc-status"), "5");
  EXPECT_EQ(proxied->header("grpc-message"), "failed on purpose");
  EXPECT_EQ(proxied->headers, direct->headers);  // byte for byte, in order
}

TEST_F(ProxyWireTest, NormalResponseHasHeadersBodyAndTrailers) {
  auto proxied = raw_grpc_request(proxy_->address(), kUnary, "", 5s);
  ASSERT_TRUE(proxied) << proxied.error();
  EXPECT_FALSE(proxied->first_headers_end_stream);
  EXPECT_EQ(proxied->header_frames, 2);
  EXPECT_EQ(proxied->header("x-backend-id"), "w0");
  ASSERT_FALSE(proxied->trailers.empty());
  EXPECT_EQ(proxied->trailers.front(), (std::pair<std::string, std::string>{"grpc-status", "0"}));
  EXPECT_GE(proxied->body.size(), 5u);
}

TEST_F(ProxyWireTest, NotPostGets405WithGrpcStatus) {
  auto r = raw_h2_request(proxy_->address(),
                          {{":method", "GET"},
                           {":scheme", "http"},
                           {":path", kUnary},
                           {":authority", "t"},
                           {"content-type", "application/grpc"}},
                          "", 5s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->header(":status"), "405");
  EXPECT_EQ(r->header("grpc-status"), "13");
  EXPECT_TRUE(r->first_headers_end_stream);
}

TEST_F(ProxyWireTest, NotGrpcContentTypeGets415) {
  auto r = raw_h2_request(proxy_->address(),
                          {{":method", "POST"},
                           {":scheme", "http"},
                           {":path", kUnary},
                           {":authority", "t"},
                           {"content-type", "application/json"}},
                          "{}", 5s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->header(":status"), "415");
  EXPECT_EQ(r->header("grpc-status"), "13");
}

TEST_F(ProxyWireTest, HeaderListOverTheAdvertisedLimitGets431) {
  RawHeaders h = {{":method", "POST"},
                  {":scheme", "http"},
                  {":path", kUnary},
                  {":authority", "t"},
                  {"content-type", "application/grpc"},
                  {"x-big", std::string(20000, 'a')}};
  auto r = raw_h2_request(proxy_->address(), h, std::string(5, '\0'), 5s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->header(":status"), "431");
  EXPECT_EQ(r->header("grpc-status"), "8");  // RESOURCE_EXHAUSTED
  auto stats = backend_->stats();
  ASSERT_TRUE(stats) << stats.error();
  EXPECT_EQ(stats->calls_total(), 0u) << "never forwarded";
}

TEST_F(ProxyWireTest, MalformedPathIsUnimplemented) {
  auto r = raw_grpc_request(proxy_->address(), "/not-a-grpc-path", "", 5s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->header(":status"), "200");
  EXPECT_EQ(r->header("grpc-status"), "12");
  EXPECT_TRUE(r->first_headers_end_stream);
}

TEST_F(ProxyWireTest, NoRouteIsUnimplementedNamingThePath) {
  auto r = raw_grpc_request(proxy_->address(), "/other.Service/Call", "", 5s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->header("grpc-status"), "12");
  EXPECT_NE(r->header("grpc-message").find("/other.Service/Call"), std::string::npos);
}

TEST_F(ProxyWireTest, PingFloodGetsTooManyPingsAndProxyStaysHealthy) {
  auto flood = raw_h2_ping_flood(proxy_->address(), 50, 3s);
  EXPECT_TRUE(flood.goaway);
  EXPECT_EQ(flood.goaway_code, 0xbu);  // ENHANCE_YOUR_CALM
  EXPECT_EQ(flood.goaway_debug, "too_many_pings");
  EXPECT_TRUE(flood.closed);
  // A polite client is unaffected.
  auto r = raw_grpc_request(proxy_->address(), kUnary, "", 5s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->header("grpc-status"), "0");
  auto health = proxy_->admin_get("/healthz");
  EXPECT_TRUE(health) << health.error();
}

TEST_F(ProxyWireTest, OccasionalPingsAreAnswered) {
  auto ping = raw_h2_ping_flood(proxy_->address(), 2, 500ms);  // within the strike allowance
  EXPECT_EQ(ping.acks, 2);
  EXPECT_FALSE(ping.goaway);
}

TEST(ProxyStreamLimit, StreamsOverTheAdvertisedLimitAreRefused) {
  // sluice advertises 5 concurrent streams; a client that sends 8 calls at once (before it
  // could know) gets 5 answered and 3 refused with REFUSED_STREAM (RFC 9113 5.1.2), which
  // clients retry safely, and the connection stays up.
  auto backend = TestServer::start("s0");
  ASSERT_TRUE(backend) << backend.error();
  std::string yaml = SluiceProcess::simple_config({backend->address()});
  yaml += "http2: {max_concurrent_streams: 5}\n";
  auto proxy = SluiceProcess::start(yaml);
  ASSERT_TRUE(proxy) << proxy.error();
  sluice::test::v1::CallRequest slow;
  slow.set_delay_ms(300);  // the first five are still running when the rest arrive
  BurstResult r = raw_grpc_burst(proxy->address(), kUnary, slow.SerializeAsString(), 8, 10s);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.ok, 5);
  ASSERT_EQ(r.rst_codes.size(), 3u);
  for (uint32_t code : r.rst_codes) EXPECT_EQ(code, 0x7u) << "REFUSED_STREAM";
  EXPECT_FALSE(r.goaway);
  auto stats = backend->stats();
  ASSERT_TRUE(stats) << stats.error();
  EXPECT_EQ(stats->calls_total(), 5u) << "refused calls never reach a backend";
}

TEST(ProxyIdle, IdleConnectionGetsGoawayAfterIdleTimeout) {
  auto backend = TestServer::start("i0");
  ASSERT_TRUE(backend) << backend.error();
  std::string yaml = SluiceProcess::simple_config({backend->address()});
  const std::string anchor = "    address: 127.0.0.1:0\n";
  yaml.insert(yaml.find(anchor) + anchor.size(), "    idle_timeout: 300ms\n");
  auto proxy = SluiceProcess::start(yaml);
  ASSERT_TRUE(proxy) << proxy.error();
  // One ping, then silence: the proxy says goodbye (GOAWAY NO_ERROR) and closes.
  auto idle = raw_h2_ping_flood(proxy->address(), 1, 3s);
  EXPECT_TRUE(idle.goaway);
  EXPECT_EQ(idle.goaway_code, 0u);
  EXPECT_TRUE(idle.closed);
}

TEST(ProxyKeepalive, SilentClientIsPingedThenClosed) {
  auto backend = TestServer::start("k1");
  ASSERT_TRUE(backend) << backend.error();
  std::string yaml = SluiceProcess::simple_config({backend->address()});
  const std::string anchor = "    address: 127.0.0.1:0\n";
  yaml.insert(yaml.find(anchor) + anchor.size(),
              "    keepalive_time: 200ms\n    keepalive_timeout: 200ms\n");
  auto proxy = SluiceProcess::start(yaml);
  ASSERT_TRUE(proxy) << proxy.error();
  // A client that sends its preface and then never reads or answers again.
  const auto started = std::chrono::steady_clock::now();
  auto closed_after = raw_h2_silent_client(proxy->address(), 5s);
  ASSERT_TRUE(closed_after.has_value()) << "the proxy never closed the silent connection";
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  // A client that answers pings (nghttp2 does it by itself) stays connected.
  auto polite = raw_h2_ping_flood(proxy->address(), 0, 1s);
  EXPECT_FALSE(polite.closed);
}

TEST(ProxyUnreachable, NoEndpointReachableIsUnavailableNamingTheCluster) {
  // A port nobody listens on: bind one, note it, close it.
  auto s = TestServer::start("gone");
  ASSERT_TRUE(s) << s.error();
  const std::string dead = s->address();
  ASSERT_TRUE(s->stop());
  auto p = SluiceProcess::start(SluiceProcess::simple_config({dead}));
  ASSERT_TRUE(p) << p.error();
  const auto started = std::chrono::steady_clock::now();
  auto r = raw_grpc_request(p->address(), kUnary, "", 5s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(r->header("grpc-status"), "14");
  EXPECT_NE(r->header("grpc-message").find("backends"), std::string::npos)
      << r->header("grpc-message");
  // Later calls fail fast while the endpoint is in reconnect backoff.
  auto again = raw_grpc_request(p->address(), kUnary, "", 5s);
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->header("grpc-status"), "14");
}

}  // namespace
}  // namespace sluice::testing
