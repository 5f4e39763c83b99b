// One grpc++ client connection -> a real sluice process -> real sluice-testservers.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "integration/async_calls.h"
#include "integration/sluice_process.h"
#include "integration/wait_until.h"
#include "payload_pattern.h"
#include "sluice/test/v1/test.grpc.pb.h"
#include "support/grpc_helpers.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using sluice::test::v1::CallRequest;
using sluice::test::v1::CallResponse;
using sluice::test::v1::TestService;
using Clock = std::chrono::steady_clock;

// Three testservers and a sluice in front of them.
class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> addresses;
    for (const char* id : {"b0", "b1", "b2"}) {
      auto s = TestServer::start(id);
      ASSERT_TRUE(s) << s.error();
      addresses.push_back(s->address());
      backends_.push_back(std::move(*s));
    }
    auto p = SluiceProcess::start(SluiceProcess::simple_config(addresses, workers()));
    ASSERT_TRUE(p) << p.error();
    proxy_ = std::make_unique<SluiceProcess>(std::move(*p));
    channel_ = make_channel(proxy_->address());
    ASSERT_TRUE(channel_->WaitForConnected(std::chrono::system_clock::now() + 10s));
    stub_ = TestService::NewStub(channel_);
  }
  // Waits until the backends together have started `n` calls: they are then in flight.
  void wait_for_backend_calls(uint64_t n) {
    for (int i = 0; i < 500; ++i) {
      uint64_t total = 0;
      for (auto& b : backends_) {
        if (!b.process().running()) continue;
        auto s = b.stats();
        if (s) total += s->calls_total();
      }
      if (total >= n) return;
      std::this_thread::sleep_for(10ms);
    }
    FAIL() << "backends did not see " << n << " calls";
  }
  virtual int workers() const { return 2; }
  // Every scenario leaves the flow-control books balanced (SluiceProcess::flow_imbalance).
  void TearDown() override {
    if (proxy_ && proxy_->process().running()) {
      EXPECT_EQ(proxy_->flow_imbalance(), "");
    }
  }

  std::vector<TestServer> backends_;
  std::unique_ptr<SluiceProcess> proxy_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<TestService::Stub> stub_;
};

TEST_F(ProxyTest, UnaryCallsOfOneConnectionSpreadEvenly) {
  std::map<std::string, int> per_backend;
  for (int i = 0; i < 3000; ++i) {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    CallRequest req;
    req.set_response_size(16);
    CallResponse resp;
    auto status = stub_->Unary(&ctx, req, &resp);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ++per_backend[resp.backend_id()];
    EXPECT_EQ(backend_id(ctx), resp.backend_id());
  }
  ASSERT_EQ(per_backend.size(), 3u);
  for (auto& [id, n] : per_backend) {
    EXPECT_GE(n, 950) << id;
    EXPECT_LE(n, 1050) << id;
  }
  // The backends agree with what the client saw.
  for (auto& b : backends_) {
    auto stats = b.stats();
    ASSERT_TRUE(stats) << stats.error();
    EXPECT_EQ(static_cast<int>(stats->calls_total()), per_backend[b.id()]);
  }
}

TEST_F(ProxyTest, ServerStreamClientStreamAndBidi) {
  {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    CallRequest req;
    req.set_response_count(50);
    req.set_response_size(1000);
    auto reader = stub_->ServerStream(&ctx, req);
    CallResponse resp;
    uint64_t seq = 0;
    while (reader->Read(&resp)) EXPECT_EQ(resp.seq(), seq++);
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_EQ(seq, 50u);
  }
  {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    CallResponse resp;
    auto writer = stub_->ClientStream(&ctx, &resp);
    for (int i = 0; i < 100; ++i) {
      CallRequest req;
      req.set_payload(std::string(100, 'x'));
      ASSERT_TRUE(writer->Write(req));
    }
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
    EXPECT_EQ(resp.request_bytes(), 10000u);
  }
  {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    auto stream = stub_->BidiStream(&ctx);
    for (int i = 0; i < 20; ++i) {
      CallRequest req;
      req.set_payload("ping" + std::to_string(i));
      req.set_echo_payload(true);
      ASSERT_TRUE(stream->Write(req));
      CallResponse resp;
      ASSERT_TRUE(stream->Read(&resp));
      EXPECT_EQ(resp.payload(), "ping" + std::to_string(i));
    }
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }
}

TEST_F(ProxyTest, MetadataAndTrailersPassByteForByte) {
  grpc::ClientContext ctx;
  set_deadline(ctx);
  const std::string binary("\x00\x01\xfe\xff-bin value", 14);
  ctx.AddMetadata("x-repeated", "one");
  ctx.AddMetadata("x-repeated", "two");
  ctx.AddMetadata("x-blob-bin", binary);
  CallRequest req;
  req.set_status_code(9);
  req.set_status_message("precondition failed: caf\xc3\xa9 100%");
  req.set_response_count(0);
  CallResponse resp;
  auto status = stub_->Unary(&ctx, req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), "precondition failed: caf\xc3\xa9 100%");
  const auto& trailers = ctx.GetServerTrailingMetadata();
  EXPECT_EQ(metadata_values(trailers, "x-trailer-x-repeated"),
            (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(metadata_values(trailers, "x-trailer-x-blob-bin"), std::vector<std::string>{binary});
}

TEST_F(ProxyTest, InitialMetadataEchoedThroughProxy) {
  grpc::ClientContext ctx;
  set_deadline(ctx);
  const std::string binary("\x00\xff\x10", 3);
  ctx.AddMetadata("x-repeated", "a");
  ctx.AddMetadata("x-repeated", "b");
  ctx.AddMetadata("x-k-bin", binary);
  CallRequest req;
  CallResponse resp;
  ASSERT_TRUE(stub_->Unary(&ctx, req, &resp).ok());
  const auto& initial = ctx.GetServerInitialMetadata();
  EXPECT_EQ(metadata_values(initial, "x-repeated"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(metadata_values(initial, "x-k-bin"), std::vector<std::string>{binary});
}

TEST_F(ProxyTest, LargeMessagesBothWays) {
  // 64 MiB each way, compared byte for byte: an upload the backend echoes, and a download of
  // the backend's aperiodic pattern (a reordered, repeated or lost frame shows in either).
  constexpr size_t k64MiB = 64u << 20;
  std::string upload(k64MiB, '\0');
  std::mt19937_64 random(42);
  for (size_t i = 0; i < upload.size(); i += 8) {
    const uint64_t word = random();
    std::memcpy(&upload[i], &word, 8);
  }
  {
    grpc::ClientContext ctx;
    set_deadline(ctx, 60s);
    CallRequest req;
    req.set_payload(upload);
    req.set_echo_payload(true);
    CallResponse resp;
    auto status = stub_->Unary(&ctx, req, &resp);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(resp.payload().size(), k64MiB);
    EXPECT_TRUE(resp.payload() == upload) << "the echoed 64 MiB differ from what was sent";
  }
  grpc::ClientContext ctx;
  set_deadline(ctx, 60s);
  CallRequest req;
  req.set_payload(upload.substr(0, 1 << 20));
  req.set_response_size(k64MiB);
  CallResponse resp;
  auto status = stub_->Unary(&ctx, req, &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(resp.payload() == testserver::pattern(k64MiB)) << "the 64 MiB download differs";
}

TEST_F(ProxyTest, ThousandConcurrentCallsOnOneConnection) {
  AsyncUnaryCalls calls;
  CallRequest req;
  req.set_delay_ms(3000);  // long enough to see all 1000 in flight at once
  calls.start(*stub_, req, 1000, 30s);
  // Concurrent: the proxy holds all 1000 at the same moment, and the backends run them.
  long peak = 0;
  for (int i = 0; i < 250 && peak < 1000; ++i) {
    peak = std::max(peak, proxy_->metric("sluice_calls_in_flight"));
    if (peak < 1000) std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(peak, 1000) << "the calls were not all in flight at once";
  wait_for_backend_calls(1000);
  std::map<std::string, int> per_backend;
  for (const auto& r : calls.rest()) {
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    ++per_backend[r.response.backend_id()];
  }
  EXPECT_EQ(per_backend.size(), 3u);
  // On one connection: the channel's, and no other.
  EXPECT_EQ(proxy_->metric("sluice_downstream_connections_total"), 1);
}

TEST_F(ProxyTest, ClientCancellationReachesBackendQuickly) {
  grpc::ClientContext ctx;
  set_deadline(ctx);
  CallRequest req;
  req.set_delay_ms(10000);
  CallResponse resp;
  std::thread canceller([&] {  // once the call is running at a backend
    wait_for_backend_calls(1);
    ctx.TryCancel();
  });
  auto status = stub_->Unary(&ctx, req, &resp);
  canceller.join();
  const auto cancelled_at = std::chrono::system_clock::now();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  // Poll the backends until one saw the cancellation.
  int64_t seen_micros = 0;
  for (int i = 0; i < 50 && seen_micros == 0; ++i) {
    for (auto& b : backends_) {
      auto s = b.stats();
      ASSERT_TRUE(s) << s.error();
      if (s->calls_cancelled() > 0) seen_micros = s->last_cancel_unix_micros();
    }
    if (seen_micros == 0) std::this_thread::sleep_for(20ms);
  }
  ASSERT_NE(seen_micros, 0) << "no backend saw the cancellation";
  const int64_t cancel_micros =
      std::chrono::duration_cast<std::chrono::microseconds>(cancelled_at.time_since_epoch())
          .count();
  EXPECT_LT(seen_micros - cancel_micros, 100000) << "backend saw the cancel late";
}

TEST_F(ProxyTest, UnknownServiceIsUnimplemented) {
  auto channel = make_channel(proxy_->address());
  grpc::GenericStub generic(channel);
  grpc::ClientContext ctx;
  set_deadline(ctx);
  grpc::ByteBuffer request, response;
  grpc::Status status;
  grpc::CompletionQueue cq;
  auto call = generic.PrepareUnaryCall(&ctx, "/no.such.Service/Method", request, &cq);
  call->StartCall();
  call->Finish(&response, &status, nullptr);
  void* tag;
  bool ok;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(status.error_message().find("no route"), std::string::npos) << status.error_message();
}

TEST_F(ProxyTest, KilledBackendFailsItsCallsAndOthersKeepWorking) {
  // Calls in flight on the killed backend fail with UNAVAILABLE at once; new calls avoid it.
  AsyncUnaryCalls calls;
  CallRequest slow;
  slow.set_delay_ms(3000);
  calls.start(*stub_, slow, 30, 20s);
  wait_for_backend_calls(30);
  const auto killed_at = Clock::now();
  ASSERT_TRUE(backends_[1].process().send_signal(SIGKILL));
  for (int i = 0; i < 10; ++i) {  // the 10 calls on the killed backend end first
    auto r = calls.next();
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  }
  EXPECT_LT(Clock::now() - killed_at, 1000ms);
  for (int i = 0; i < 300; ++i) {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    CallRequest req;
    CallResponse resp;
    auto status = stub_->Unary(&ctx, req, &resp);
    ASSERT_TRUE(status.ok()) << i << ": " << status.error_message();
    EXPECT_NE(resp.backend_id(), "b1");
  }
  for (const auto& r : calls.rest()) EXPECT_TRUE(r.status.ok()) << r.status.error_message();
}

TEST_F(ProxyTest, SigtermDrainLosesNoInFlightCall) {
  AsyncUnaryCalls calls;
  CallRequest req;
  req.set_delay_ms(800);
  calls.start(*stub_, req, 100, 20s);
  wait_for_backend_calls(100);
  ASSERT_TRUE(proxy_->process().send_signal(SIGTERM));
  for (const auto& r : calls.rest()) EXPECT_TRUE(r.status.ok()) << r.status.error_message();
  auto code = proxy_->process().wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

TEST_F(ProxyTest, AdminReportsCallsPerEndpoint) {
  for (int i = 0; i < 30; ++i) {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    CallRequest req;
    CallResponse resp;
    ASSERT_TRUE(stub_->Unary(&ctx, req, &resp).ok());
  }
  auto health = proxy_->admin_get("/healthz");
  ASSERT_TRUE(health) << health.error();
  auto metrics = proxy_->admin_get("/metrics");
  ASSERT_TRUE(metrics) << metrics.error();
  for (auto& b : backends_) {
    std::string line = "sluice_calls_total{cluster=\"backends\",endpoint=\"" + b.address() +
                       "\",grpc_status=\"OK\"} 10";
    EXPECT_NE(metrics->find(line), std::string::npos) << line << "\n" << *metrics;
  }
  EXPECT_NE(metrics->find("sluice_downstream_connections 1"), std::string::npos);
  auto clusters = proxy_->admin_get("/clusters");
  ASSERT_TRUE(clusters) << clusters.error();
  EXPECT_NE(clusters->find(backends_[0].address()), std::string::npos);
}

TEST_F(ProxyTest, HundredThousandMessageStreamsBothWays) {
  {
    grpc::ClientContext ctx;
    set_deadline(ctx, 60s);
    CallRequest req;
    req.set_response_count(100000);
    req.set_response_size(8);
    auto reader = stub_->ServerStream(&ctx, req);
    CallResponse resp;
    uint64_t n = 0;
    while (reader->Read(&resp)) {
      if (resp.seq() != n) break;
      ++n;
    }
    ASSERT_TRUE(reader->Finish().ok());
    EXPECT_EQ(n, 100000u);
  }
  {
    grpc::ClientContext ctx;
    set_deadline(ctx, 60s);
    CallResponse resp;
    auto writer = stub_->ClientStream(&ctx, &resp);
    CallRequest req;
    req.set_payload("12345678");
    for (int i = 0; i < 100000; ++i) ASSERT_TRUE(writer->Write(req));
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
    EXPECT_EQ(resp.request_bytes(), 800000u);
  }
}

// A backend that takes 10 streams per connection: the pool opens a second connection, and
// calls beyond both connections' slots wait for one instead of failing.
TEST(ProxyPool, OpensConnectionsUpToTheLimitThenQueues) {
  auto backend = TestServer::start("narrow", {"--max-concurrent-streams", "10"});
  ASSERT_TRUE(backend) << backend.error();
  std::string yaml = SluiceProcess::simple_config({backend->address()});
  yaml += "    max_connections_per_endpoint: 2\n";
  auto proxy = SluiceProcess::start(yaml);
  ASSERT_TRUE(proxy) << proxy.error();
  auto channel = make_channel(proxy->address());
  auto stub = TestService::NewStub(channel);
  {  // one call first, so the pool knows the backend's SETTINGS
    grpc::ClientContext ctx;
    set_deadline(ctx);
    CallRequest req;
    CallResponse resp;
    ASSERT_TRUE(stub->Unary(&ctx, req, &resp).ok());
  }
  AsyncUnaryCalls calls;
  CallRequest slow;
  slow.set_delay_ms(300);
  const auto started = Clock::now();
  calls.start(*stub, slow, 50, 20s);
  const std::string connections =
      "sluice_upstream_connections{cluster=\"backends\",endpoint=\"" + backend->address() + "\"}";
  EXPECT_TRUE(wait_until([&] { return proxy->metric(connections) == 2; }, 2000ms))
      << "not 2 upstream connections while 50 calls wait";
  EXPECT_EQ(proxy->metric(connections), 2) << "more than the limit";
  for (const auto& r : calls.rest()) EXPECT_TRUE(r.status.ok()) << r.status.error_message();
  // 20 slots for 50 calls of 300 ms: three waves.
  EXPECT_GE(Clock::now() - started, 900ms);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

}  // namespace
}  // namespace sluice::testing
