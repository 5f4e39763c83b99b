// The proxy's own limits under pressure: the buffer budget refuses new streams instead of
// growing, a listener's max_connections closes the extra ones at once, running out of file
// descriptors pauses accepting instead of spinning, and endpoints in connect backoff never use
// up a call's tries while a healthy one exists.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "integration/h2_attacker.h"
#include "integration/raw_h2_client.h"
#include "integration/sluice_process.h"
#include "sluice/test/v1/test.grpc.pb.h"
#include "support/grpc_helpers.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
constexpr const char* kUnary = "/sluice.test.v1.TestService/Unary";

std::string framed(const std::string& message) {
  std::string f(5, '\0');
  f[1] = static_cast<char>(message.size() >> 24);
  f[2] = static_cast<char>(message.size() >> 16);
  f[3] = static_cast<char>(message.size() >> 8);
  f[4] = static_cast<char>(message.size());
  return f + message;
}

std::string one_worker_config(const std::vector<std::string>& endpoints,
                              const std::string& listener_extra = "",
                              const std::string& top_extra = "") {
  std::string y = top_extra +
                  "workers: 1\nadmin: {address: 127.0.0.1:0}\n"
                  "listeners:\n  - name: main\n    address: 127.0.0.1:0\n" +
                  listener_extra + "clusters:\n  - name: backends\n    endpoints:\n";
  for (const auto& e : endpoints) y += "      - " + e + "\n";
  return y;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

TEST(ProxyLimits, OverTheBufferBudgetNewStreamsAreRefused) {
  auto backend = TestServer::start("big");
  ASSERT_TRUE(backend) << backend.error();
  auto proxy = SluiceProcess::start(
      one_worker_config({backend->address()}, "", "http2: {max_buffered_bytes: 1MiB}\n"));
  ASSERT_TRUE(proxy) << proxy.error();
  {
    // A client that opens no window (INITIAL_WINDOW_SIZE 0) asks for two 2 MiB responses:
    // the proxy takes 1 MiB of each from the backend (its upstream stream window) and can
    // pass on nothing.
    H2Attacker reader(proxy->address(), /*initial_window=*/0);
    ASSERT_TRUE(reader.connected());
    sluice::test::v1::CallRequest big;
    big.set_response_size(2 << 20);
    std::string bytes;
    for (uint32_t id : {1u, 3u}) {
      bytes += reader.request_headers(id, kUnary, /*end_stream=*/false);
      bytes += H2Attacker::frame(NGHTTP2_DATA, NGHTTP2_FLAG_END_STREAM, id,
                                 framed(big.SerializeAsString()));
    }
    ASSERT_TRUE(reader.send(bytes));
    ASSERT_TRUE(wait_until(
        [&] {
          return proxy->metric("sluice_http2_unconsumed_bytes{side=\"upstream\"}") > (1 << 20);
        },
        10s))
        << "the proxy never held the responses";
    // Any new stream, on any connection, is refused now: retryable, nothing reached a backend.
    auto refused = raw_grpc_request(proxy->address(), kUnary, "", 5s);
    ASSERT_TRUE(refused) << refused.error();
    EXPECT_EQ(refused->rst_code, static_cast<uint32_t>(NGHTTP2_REFUSED_STREAM));
    EXPECT_EQ(proxy->metric("sluice_downstream_refused_streams_total{reason=\"buffer_limit\"}"), 1);
  }  // the reader goes away: its buffered responses are dropped
  ASSERT_TRUE(wait_until(
      [&] { return proxy->metric("sluice_http2_unconsumed_bytes{side=\"upstream\"}") == 0; }, 10s));
  auto ok = raw_grpc_request(proxy->address(), kUnary, "", 5s);
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(ok->header("grpc-status"), "0");
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyLimits, ListenerMaxConnectionsClosesTheExtraOnesAtOnce) {
  auto backend = TestServer::start("b0");
  ASSERT_TRUE(backend) << backend.error();
  auto proxy =
      SluiceProcess::start(one_worker_config({backend->address()}, "    max_connections: 2\n"));
  ASSERT_TRUE(proxy) << proxy.error();
  H2Attacker first(proxy->address()), second(proxy->address());
  ASSERT_TRUE(wait_until([&] { return proxy->metric("sluice_downstream_connections") == 2; }, 5s));
  H2Attacker third(proxy->address());
  const auto sent = std::chrono::steady_clock::now();
  auto out = third.read_until_closed(5s);
  EXPECT_TRUE(out.closed);
  EXPECT_LT(std::chrono::steady_clock::now() - sent, 1s);
  EXPECT_EQ(proxy->metric("sluice_downstream_connections_rejected_total"), 1);
  EXPECT_EQ(proxy->metric("sluice_downstream_connections"), 2);
}

TEST(ProxyLimits, OutOfFileDescriptorsTheWorkerBacksOffInsteadOfSpinning) {
  // Sanitizer runtimes need descriptors of their own while the proxy has none: UBSan's vptr
  // check probes memory through a pipe and, failing to make one, reports a false "invalid
  // vptr". The release build (and the TSan proxy phase, whose runtime copes) shows the backoff.
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "sanitizer runtimes misreport without free file descriptors";
#endif
  auto backend = TestServer::start("b0");
  ASSERT_TRUE(backend) << backend.error();
  auto proxy = SluiceProcess::start(one_worker_config({backend->address()}));
  ASSERT_TRUE(proxy) << proxy.error();
  // Leave the proxy three free descriptors, then connect ten clients.
  const auto fd_dir = "/proc/" + std::to_string(proxy->pid()) + "/fd";
  const auto open_fds = std::distance(std::filesystem::directory_iterator(fd_dir),
                                      std::filesystem::directory_iterator());
  rlimit original{};
  ASSERT_EQ(prlimit(proxy->pid(), RLIMIT_NOFILE, nullptr, &original), 0) << std::strerror(errno);
  // Only the soft limit moves: raising it back needs no privilege.
  const rlimit tight{static_cast<rlim_t>(open_fds + 3), original.rlim_max};
  ASSERT_EQ(prlimit(proxy->pid(), RLIMIT_NOFILE, &tight, nullptr), 0) << std::strerror(errno);
  std::vector<int> clients;
  for (int i = 0; i < 10; ++i) clients.push_back(raw_connect(proxy->address()));
  // Let it run into EMFILE. A sleep, not a wait on a metric: with no descriptor left the
  // admin endpoint cannot accept either (the count is checked once the limit is back).
  std::this_thread::sleep_for(200ms);
  // A worker that retried accept() at once would burn a whole core now.
  const double cpu_before = proxy->cpu_seconds();
  std::this_thread::sleep_for(1s);
  const double cpu_used = proxy->cpu_seconds() - cpu_before;
  EXPECT_LT(cpu_used, 0.2) << "the worker spins on accept";
  for (int fd : clients) ::close(fd);
  ASSERT_EQ(prlimit(proxy->pid(), RLIMIT_NOFILE, &original, nullptr), 0) << std::strerror(errno);
  EXPECT_GT(proxy->metric("sluice_accept_errors_total"), 0);
  // Once descriptors are free again it serves.
  ASSERT_TRUE(wait_until(
      [&] {
        auto r = raw_grpc_request(proxy->address(), kUnary, "", 2s);
        return r && r->header("grpc-status") == "0";
      },
      5s));
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

// A port with nothing listening: connects are refused at once.
std::string dead_address() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

TEST(ProxyLimits, EndpointsInBackoffDoNotUseUpTheCallsTries) {
  // Nine dead endpoints and one live one: once the dead ones are in connect backoff, a call
  // skips them; a call may try 8 endpoints, so if skipping counted as trying, calls that met
  // eight dead ones first would fail.
  auto backend = TestServer::start("alive");
  ASSERT_TRUE(backend) << backend.error();
  std::vector<std::string> endpoints;
  for (int i = 0; i < 9; ++i) endpoints.push_back(dead_address());
  endpoints.push_back(backend->address());
  auto proxy = SluiceProcess::start(one_worker_config(endpoints));
  ASSERT_TRUE(proxy) << proxy.error();
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy->address()));
  auto call = [&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    sluice::test::v1::CallRequest req;
    sluice::test::v1::CallResponse resp;
    return stub->Unary(&ctx, req, &resp);
  };
  for (int i = 0; i < 20; ++i) call();  // every dead endpoint fails its connect once
  ASSERT_TRUE(wait_until(
      [&] {
        long failures = 0;
        for (int i = 0; i < 9; ++i) {
          failures += proxy->metric(
                          "sluice_upstream_connect_failures_total{cluster=\"backends\","
                          "endpoint=\"" +
                          endpoints[i] + "\"}") > 0;
        }
        return failures == 9;
      },
      10s));
  for (int i = 0; i < 100; ++i) {
    auto status = call();
    ASSERT_TRUE(status.ok()) << i << ": " << status.error_message();
  }
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

}  // namespace
}  // namespace sluice::testing
