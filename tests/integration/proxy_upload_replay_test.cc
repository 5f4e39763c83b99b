// Transparent replay of calls with a request body, against raw HTTP/2 backends that report
// what body they received (x-body-bytes, x-body-fnv): a backend's GOAWAY in the middle of an
// upload, under and over the proxy's 64 KiB replay buffer, and an endpoint whose connect fails
// with the call already assigned to it (the "connection_lost" replay).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

#include "integration/raw_h2_backend.h"
#include "integration/raw_h2_client.h"
#include "integration/sluice_process.h"
#include "payload_pattern.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPath = "/sluice.test.v1.TestService/Unary";

// What the client sends as its request body: one gRPC message of `size` patterned bytes.
std::string framed_message(size_t size) {
  std::string framed(5, '\0');
  const uint32_t len = htonl(static_cast<uint32_t>(size));
  std::memcpy(framed.data() + 1, &len, 4);
  return framed + testserver::pattern(size);
}

// The backend's report of what it received matches the whole body the client sent.
void expect_whole_body(const RawResponse& r, size_t message_size) {
  const std::string body = framed_message(message_size);
  EXPECT_EQ(r.header("x-body-bytes"), std::to_string(body.size()));
  EXPECT_EQ(r.header("x-body-fnv"),
            std::to_string(testserver::fnv1a(testserver::kFnvOffset, body)));
}

std::unique_ptr<RawH2Backend> start_raw(RawH2Backend::Options options) {
  auto b = RawH2Backend::start(std::move(options));
  EXPECT_TRUE(b) << b.error();
  return b ? std::move(*b) : nullptr;
}

std::string replays(const std::string& endpoint, const std::string& reason) {
  return "sluice_upstream_replays_total{cluster=\"backends\",endpoint=\"" + endpoint +
         "\",reason=\"" + reason + "\"}";
}

// A 40 KiB upload; backend "a" sends GOAWAY once 16 KiB of it arrived. The proxy still holds
// everything it forwarded (under 64 KiB), so the call goes to "b" with the whole body.
TEST(ProxyUploadReplay, GoawayMidUploadUnderTheReplayLimitIsReplayedWhole) {
  constexpr size_t kMessage = 40 * 1024;
  auto a = start_raw({.id = "a", .goaway_after_body_bytes = 16 * 1024});
  auto b = start_raw({.id = "b"});
  ASSERT_TRUE(a && b);
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config({a->address(), b->address()}, 1));
  ASSERT_TRUE(proxy) << proxy.error();
  // Round robin: the GOAWAY comes on the first or the second call.
  for (int i = 0; i < 2 && a->goaways() == 0; ++i) {
    auto r = raw_grpc_request(proxy->address(), kPath, testserver::pattern(kMessage), 10s);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->header("grpc-status"), "0") << r->header("grpc-message");
    EXPECT_EQ(r->header("x-backend-id"), "b");
    expect_whole_body(*r, kMessage);
  }
  EXPECT_EQ(a->goaways(), 1);
  EXPECT_EQ(a->answered(), 0);
  EXPECT_EQ(proxy->metric(replays(a->address(), "refused")), 1);
  EXPECT_EQ(proxy->metric("sluice_upstream_goaways_total{cluster=\"backends\",endpoint=\"" +
                          a->address() + "\"}"),
            1);
  // After the GOAWAY, "a" is reached over a new connection and answers in turn.
  for (int i = 0; i < 2; ++i) {
    auto r = raw_grpc_request(proxy->address(), kPath, testserver::pattern(kMessage), 10s);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->header("grpc-status"), "0") << r->header("grpc-message");
    expect_whole_body(*r, kMessage);
  }
  EXPECT_EQ(a->answered(), 1);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

// A 200 KiB upload; the GOAWAY comes after 100 KiB. The proxy forwarded more than its 64 KiB
// replay buffer keeps, so it cannot send the body again: the call fails UNAVAILABLE, clean
// (Trailers-Only, no reset), and no backend ever answers a cut body.
TEST(ProxyUploadReplay, GoawayMidUploadOverTheReplayLimitFailsCleanly) {
  constexpr size_t kMessage = 200 * 1024;
  auto a = start_raw({.id = "a", .goaway_after_body_bytes = 100 * 1024});
  auto b = start_raw({.id = "b"});
  ASSERT_TRUE(a && b);
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config({a->address(), b->address()}, 1));
  ASSERT_TRUE(proxy) << proxy.error();
  int failed = 0, on_b = 0;
  for (int i = 0; i < 2 && a->goaways() == 0; ++i) {
    auto r = raw_grpc_request(proxy->address(), kPath, testserver::pattern(kMessage), 10s);
    ASSERT_TRUE(r) << r.error();
    if (r->header("x-backend-id") == "b") {  // the call before the GOAWAY went to "b"
      EXPECT_EQ(r->header("grpc-status"), "0");
      expect_whole_body(*r, kMessage);
      ++on_b;
      continue;
    }
    ++failed;
    EXPECT_EQ(r->header("grpc-status"), "14") << r->header("grpc-message");
    EXPECT_NE(r->header("grpc-message").find(a->address()), std::string::npos)
        << r->header("grpc-message");
    EXPECT_TRUE(r->first_headers_end_stream) << "a clean Trailers-Only answer";
    EXPECT_EQ(r->rst_code, 0xffffffffu) << "not a reset";
  }
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(a->goaways(), 1);
  EXPECT_EQ(b->answered(), on_b) << "the cut body was not sent again";
  EXPECT_EQ(proxy->metric(replays(a->address(), "refused")), 0);
  EXPECT_EQ(proxy->metric(replays(a->address(), "connection_lost")), 0);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

// A port that is bound but not listening: connects to it are refused at once.
struct ClosedPort {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  std::string address;
  ClosedPort() {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      address = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    }
  }
  ~ClosedPort() { ::close(fd); }
};

// The call is assigned to a connection still connecting; the connect fails, so nothing of it
// was sent: the proxy replays it, body and all, on the other endpoint.
TEST(ProxyUploadReplay, AConnectThatFailsReplaysTheCallWithItsBody) {
  constexpr size_t kMessage = 40 * 1024;
  ClosedPort dead;
  ASSERT_FALSE(dead.address.empty());
  auto b = start_raw({.id = "b"});
  ASSERT_TRUE(b);
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config({dead.address, b->address()}, 1));
  ASSERT_TRUE(proxy) << proxy.error();
  for (int i = 0; i < 4; ++i) {
    auto r = raw_grpc_request(proxy->address(), kPath, testserver::pattern(kMessage), 10s);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->header("grpc-status"), "0") << r->header("grpc-message");
    EXPECT_EQ(r->header("x-backend-id"), "b");
    expect_whole_body(*r, kMessage);
  }
  // One call met the failed connect; then the endpoint is in backoff and not picked.
  EXPECT_EQ(proxy->metric(replays(dead.address, "connection_lost")), 1);
  EXPECT_EQ(proxy->metric("sluice_upstream_connect_failures_total{cluster=\"backends\","
                          "endpoint=\"" +
                          dead.address + "\"}"),
            1);
  EXPECT_EQ(b->answered(), 4);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

}  // namespace
}  // namespace sluice::testing
