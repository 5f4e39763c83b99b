// Calls end to end through real processes where a test needs more than one cluster or more
// than a handful of endpoints: routing by method and authority to several clusters, a client
// cancelling streams midway as the backend sees it, and a cluster of a thousand endpoints.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "integration/async_calls.h"
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
using sluice::test::v1::TestService;

std::vector<TestServer> start_backends(const std::vector<std::string>& ids) {
  std::vector<TestServer> backends;
  for (const auto& id : ids) {
    auto s = TestServer::start(id);
    EXPECT_TRUE(s) << s.error();
    if (s) backends.push_back(std::move(*s));
  }
  return backends;
}

std::string endpoint_list(const std::vector<std::string>& addresses) {
  std::string out;
  for (const auto& a : addresses) out += "      - " + a + "\n";
  return out;
}

// The sum of sluice_calls_total over the endpoints of `cluster`, grpc-status OK.
long ok_calls_of_cluster(const std::string& metrics, const std::string& cluster) {
  const std::string prefix = "sluice_calls_total{cluster=\"" + cluster + "\",endpoint=\"";
  long total = 0;
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(prefix)) continue;
    const size_t close = line.find("\",grpc_status=\"OK\"} ");
    if (close == std::string::npos || close == prefix.size()) continue;  // endpoint "" too
    total += std::stol(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

// Five backends behind three clusters: ServerStream calls go to "streams" (b2, b3), calls for
// the authority alt.example to "alt" (b4), every other TestService call to "unary" (b0, b1).
TEST(ProxyRouting, SeveralClustersEachGetOnlyTheirCalls) {
  auto backends = start_backends({"b0", "b1", "b2", "b3", "b4"});
  ASSERT_EQ(backends.size(), 5u);
  const std::string yaml =
      "workers: 2\nadmin: {address: 127.0.0.1:0}\n"
      "listeners:\n  - name: main\n    address: 127.0.0.1:0\n"
      "routes:\n"
      "  - match: {service: sluice.test.v1.TestService, method: ServerStream}\n"
      "    cluster: streams\n"
      "  - match: {authority: alt.example}\n"
      "    cluster: alt\n"
      "  - match: {service: sluice.test.v1.TestService}\n"
      "    cluster: unary\n"
      "clusters:\n"
      "  - name: unary\n    endpoints:\n" +
      endpoint_list({backends[0].address(), backends[1].address()}) +
      "  - name: streams\n    endpoints:\n" +
      endpoint_list({backends[2].address(), backends[3].address()}) +
      "  - name: alt\n    endpoints:\n" + endpoint_list({backends[4].address()});
  auto proxy = SluiceProcess::start(yaml);
  ASSERT_TRUE(proxy) << proxy.error();
  auto stub = TestService::NewStub(make_channel(proxy->address()));

  std::map<std::string, int> unary_at, stream_at, alt_at;
  for (int i = 0; i < 200; ++i) {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    CallRequest req;
    CallResponse resp;
    ASSERT_TRUE(stub->Unary(&ctx, req, &resp).ok());
    ++unary_at[resp.backend_id()];
  }
  for (int i = 0; i < 40; ++i) {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    CallRequest req;
    req.set_response_count(3);
    auto reader = stub->ServerStream(&ctx, req);
    CallResponse resp;
    int messages = 0;
    while (reader->Read(&resp)) {
      ++messages;
      ++stream_at[resp.backend_id()];
    }
    ASSERT_TRUE(reader->Finish().ok());
    EXPECT_EQ(messages, 3);
  }
  for (int i = 0; i < 30; ++i) {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    ctx.set_authority("alt.example");
    CallRequest req;
    CallResponse resp;
    ASSERT_TRUE(stub->Unary(&ctx, req, &resp).ok());
    ++alt_at[resp.backend_id()];
  }
  // Round robin within each cluster, nothing across them.
  EXPECT_EQ(unary_at, (std::map<std::string, int>{{"b0", 100}, {"b1", 100}}));
  EXPECT_EQ(stream_at, (std::map<std::string, int>{{"b2", 60}, {"b3", 60}}));
  EXPECT_EQ(alt_at, (std::map<std::string, int>{{"b4", 30}}));
  // The backends agree, method by method.
  const std::map<std::string, std::map<std::string, uint64_t>> expected = {
      {"b0", {{"Unary", 100}}},
      {"b1", {{"Unary", 100}}},
      {"b2", {{"ServerStream", 20}}},
      {"b3", {{"ServerStream", 20}}},
      {"b4", {{"Unary", 30}}}};
  for (auto& b : backends) {
    auto stats = b.stats();
    ASSERT_TRUE(stats) << stats.error();
    std::map<std::string, uint64_t> by_method(stats->calls_by_method().begin(),
                                              stats->calls_by_method().end());
    EXPECT_EQ(by_method, expected.at(b.id())) << b.id();
  }
  // And so do the proxy's counters, cluster by cluster.
  auto page = proxy->admin_get("/metrics");
  ASSERT_TRUE(page) << page.error();
  EXPECT_EQ(ok_calls_of_cluster(*page, "unary"), 200);
  EXPECT_EQ(ok_calls_of_cluster(*page, "streams"), 40);
  EXPECT_EQ(ok_calls_of_cluster(*page, "alt"), 30);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

// One backend and a proxy; the tests cancel calls midway from a grpc++ client.
class ProxyStreamCancel : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = TestServer::start("b0");
    ASSERT_TRUE(s) << s.error();
    backend_ = std::make_unique<TestServer>(std::move(*s));
    auto p = SluiceProcess::start(SluiceProcess::simple_config({backend_->address()}));
    ASSERT_TRUE(p) << p.error();
    proxy_ = std::make_unique<SluiceProcess>(std::move(*p));
    stub_ = TestService::NewStub(make_channel(proxy_->address()));
  }
  void TearDown() override {
    if (proxy_) {
      EXPECT_EQ(proxy_->flow_imbalance(), "");
    }
  }
  sluice::test::v1::StatsResponse stats() {
    auto s = backend_->stats();
    EXPECT_TRUE(s) << s.error();
    return s ? *s : sluice::test::v1::StatsResponse{};
  }
  // Waits until the backend saw the cancellation, then checks that it sent or read nothing
  // more after it: the proxy forwarded the RST_STREAM instead of carrying on the call.
  void expect_backend_saw_the_cancel() {
    ASSERT_TRUE(wait_until([&] { return stats().calls_cancelled() == 1; }, 5s))
        << "the backend never saw the cancellation";
    const auto at_cancel = stats();
    std::this_thread::sleep_for(200ms);  // time is the subject: nothing may move after
    const auto later = stats();
    EXPECT_EQ(later.messages_sent(), at_cancel.messages_sent());
    EXPECT_EQ(later.messages_received(), at_cancel.messages_received());
    EXPECT_EQ(proxy_->metric("sluice_calls_in_flight"), 0);
  }

  std::unique_ptr<TestServer> backend_;
  std::unique_ptr<SluiceProcess> proxy_;
  std::unique_ptr<TestService::Stub> stub_;
};

TEST_F(ProxyStreamCancel, ServerStreamCancelledAfterSomeMessages) {
  grpc::ClientContext ctx;
  set_deadline(ctx);
  CallRequest req;
  req.set_response_count(10000);
  req.set_response_size(100);
  req.set_message_interval_ms(5);
  auto reader = stub_->ServerStream(&ctx, req);
  CallResponse resp;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(reader->Read(&resp)) << i;
  ctx.TryCancel();
  while (reader->Read(&resp)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  expect_backend_saw_the_cancel();
  EXPECT_LT(stats().messages_sent(), 10000u);
  EXPECT_GE(stats().messages_sent(), 5u);
}

TEST_F(ProxyStreamCancel, BidiStreamCancelledMidUpload) {
  grpc::ClientContext ctx;
  set_deadline(ctx);
  auto stream = stub_->BidiStream(&ctx);
  CallRequest req;
  req.set_payload(std::string(1024, 'u'));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(stream->Write(req)) << i;
  CallResponse resp;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(stream->Read(&resp)) << i;
  ASSERT_TRUE(wait_until([&] { return stats().messages_received() == 10; }, 5s));
  ctx.TryCancel();  // the upload is open: no WritesDone
  while (stream->Read(&resp)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  expect_backend_saw_the_cancel();
  EXPECT_EQ(stats().messages_received(), 10u);
  EXPECT_EQ(stats().payload_bytes_received(), 10u * 1024);
}

// One testserver process listening on many ports: a cluster of `ports` endpoints.
struct ManyPortBackend {
  std::unique_ptr<TestServer> server;
  std::vector<std::string> addresses;
};

ManyPortBackend start_many_port_backend(int ports) {
  ManyPortBackend b;
  auto s = TestServer::start("fleet", {"--ports", std::to_string(ports)});
  EXPECT_TRUE(s) << s.error();
  if (!s) return b;
  b.server = std::make_unique<TestServer>(std::move(*s));
  b.addresses.push_back(b.server->address());
  while (static_cast<int>(b.addresses.size()) < ports) {
    auto line = b.server->process().read_line(10s);
    if (!line || !line->starts_with("listening on ")) break;
    b.addresses.push_back(line->substr(std::string("listening on ").size()));
  }
  EXPECT_EQ(static_cast<int>(b.addresses.size()), ports);
  return b;
}

// 1200 endpoints, round robin on one worker: 2400 calls give each exactly two, over one
// upstream connection each, and every call succeeds.
TEST(ProxyLargeFleet, ThousandsOfEndpointsEachGetTheirShare) {
  constexpr int kEndpoints = 1200;
  auto fleet = start_many_port_backend(kEndpoints);
  ASSERT_EQ(static_cast<int>(fleet.addresses.size()), kEndpoints);
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config(fleet.addresses, 1));
  ASSERT_TRUE(proxy) << proxy.error();
  auto stub = TestService::NewStub(make_channel(proxy->address()));

  AsyncUnaryCalls calls;
  for (int round = 0; round < 2 * kEndpoints / 200; ++round) {
    calls.start(*stub, CallRequest{}, 200, 30s);
    for (auto& r : calls.rest()) ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  }
  auto page = proxy->admin_get("/clusters");
  ASSERT_TRUE(page) << page.error();
  const auto json = nlohmann::json::parse(*page);
  const auto& endpoints = json["clusters"][0]["endpoints"];
  ASSERT_EQ(endpoints.size(), static_cast<size_t>(kEndpoints));
  std::map<uint64_t, int> endpoints_by_calls;
  std::set<std::string> seen;
  for (const auto& e : endpoints) {
    ++endpoints_by_calls[e["calls"].get<uint64_t>()];
    EXPECT_EQ(e["upstream_connections"].get<uint64_t>(), 1u) << e["address"];
    seen.insert(e["address"].get<std::string>());
  }
  EXPECT_EQ(endpoints_by_calls, (std::map<uint64_t, int>{{2, kEndpoints}}));
  EXPECT_EQ(seen.size(), static_cast<size_t>(kEndpoints));
  auto stats = fleet.server->stats();
  ASSERT_TRUE(stats) << stats.error();
  EXPECT_EQ(stats->calls_total(), 2u * kEndpoints);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

}  // namespace
}  // namespace sluice::testing
