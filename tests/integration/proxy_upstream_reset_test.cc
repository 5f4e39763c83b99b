// What the proxy does with upstream streams a backend refuses or resets, against a raw HTTP/2
// backend that does so on demand: refused streams are replayed without the client noticing;
// resets become the gRPC status PROTOCOL-HTTP2.md prescribes.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <string>

#include "integration/raw_h2_backend.h"
#include "integration/sluice_process.h"
#include "sluice/test/v1/test.grpc.pb.h"
#include "support/grpc_helpers.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

using sluice::test::v1::CallRequest;
using sluice::test::v1::CallResponse;

grpc::Status call(sluice::test::v1::TestService::Stub& stub, const std::string& action,
                  std::string* backend = nullptr) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (!action.empty()) ctx.AddMetadata("x-raw-action", action);
  CallRequest request;
  CallResponse response;
  grpc::Status status = stub.Unary(&ctx, request, &response);
  if (backend != nullptr) *backend = backend_id(ctx);
  return status;
}

TEST(ProxyUpstreamReset, RefusedStreamsAreReplayedElsewhereWithoutFailures) {
  auto raw = RawH2Backend::start({.id = "raw", .refuse_first = 5});
  ASSERT_TRUE(raw) << raw.error();
  auto other = TestServer::start("other");
  ASSERT_TRUE(other) << other.error();
  const std::string raw_address = (*raw)->address();
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config({raw_address, other->address()}));
  ASSERT_TRUE(proxy) << proxy.error();
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy->address()));
  int on_raw = 0;
  for (int i = 0; i < 40; ++i) {
    std::string backend;
    grpc::Status status = call(*stub, "", &backend);
    EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    on_raw += backend == "raw";
  }
  EXPECT_EQ((*raw)->refused(), 5);
  EXPECT_GT(on_raw, 0) << "after its refusals the raw backend takes calls again";
  EXPECT_EQ(proxy->metric("sluice_upstream_replays_total{cluster=\"backends\",endpoint=\"" +
                          raw_address + "\",reason=\"refused\"}"),
            5);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyUpstreamReset, ASingleEndpointThatRefusedIsTriedAgainUpToFiveAttempts) {
  // Every endpoint tried and refused: the call never ran anywhere, so going back is safe (a
  // backend rotating its connections refuses once, not forever). The first call here is
  // refused five times (the attempt cap) and fails UNAVAILABLE naming the refusal; the second
  // is refused twice and answered on its third attempt.
  auto raw = RawH2Backend::start({.id = "raw", .refuse_first = 7});
  ASSERT_TRUE(raw) << raw.error();
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config({(*raw)->address()}));
  ASSERT_TRUE(proxy) << proxy.error();
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy->address()));
  grpc::Status status = call(*stub, "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << "refused five times";
  EXPECT_NE(status.error_message().find("stream refused"), std::string::npos)
      << status.error_message();
  EXPECT_EQ((*raw)->refused(), 5);
  status = call(*stub, "");
  EXPECT_TRUE(status.ok()) << "refused twice, answered on the third attempt: "
                           << status.error_message();
  EXPECT_EQ((*raw)->refused(), 7);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyUpstreamReset, ResetsBecomeTheMappedGrpcStatus) {
  auto raw = RawH2Backend::start({});
  ASSERT_TRUE(raw) << raw.error();
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config({(*raw)->address()}));
  ASSERT_TRUE(proxy) << proxy.error();
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy->address()));
  ASSERT_TRUE(call(*stub, "").ok()) << "a plain call through the raw backend works";
  // RST_STREAM code -> gRPC status (PROTOCOL-HTTP2.md, "Errors").
  const std::pair<int, grpc::StatusCode> mapping[] = {
      {0x8, grpc::StatusCode::CANCELLED},         {0xb, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {0xc, grpc::StatusCode::PERMISSION_DENIED}, {0x2, grpc::StatusCode::INTERNAL},
      {0x1, grpc::StatusCode::INTERNAL},
  };
  for (const auto& [code, expected] : mapping) {
    grpc::Status status = call(*stub, "rst:" + std::to_string(code));
    EXPECT_EQ(status.error_code(), expected)
        << "RST_STREAM " << code << ": " << status.error_message();
  }
}

TEST(ProxyUpstreamReset, ResetAfterResponseHeadersResetsTheClientStream) {
  // The response has begun, so no status can be made up any more: the client's stream is
  // reset and its gRPC library maps that code itself.
  auto raw = RawH2Backend::start({});
  ASSERT_TRUE(raw) << raw.error();
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config({(*raw)->address()}));
  ASSERT_TRUE(proxy) << proxy.error();
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy->address()));
  grpc::Status status = call(*stub, "rst-after-headers:11");  // ENHANCE_YOUR_CALM
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  // REFUSED_STREAM would tell the client nothing was processed (UNAVAILABLE, retry safe): not
  // true once a response began, so the client gets INTERNAL_ERROR.
  status = call(*stub, "rst-after-headers:7");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL) << status.error_message();
  EXPECT_TRUE(call(*stub, "").ok()) << "the proxy and the connection carry on";
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

}  // namespace
}  // namespace sluice::testing
