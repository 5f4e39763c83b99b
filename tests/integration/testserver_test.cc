// sluice-testserver driven by a real grpc++ client, through the test-support library.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "grpc/health/v1/health.grpc.pb.h"
#include "payload_pattern.h"
#include "sluice/test/v1/test.grpc.pb.h"
#include "support/bin_path.h"
#include "support/child_process.h"
#include "support/grpc_helpers.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using sluice::test::v1::CallRequest;
using sluice::test::v1::CallResponse;
using Clock = std::chrono::steady_clock;

// The value of a "Name:\t123 kB"-style line of /proc/PID/status.
long proc_status_value(pid_t pid, const std::string& name) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(name + ":")) return std::stol(line.substr(name.size() + 1));
  }
  return -1;
}

TEST(TestServer, TwoServersAnswerWithTheirOwnIds) {
  auto alpha = TestServer::start("alpha");
  ASSERT_TRUE(alpha) << alpha.error();
  auto unnamed = TestServer::start();
  ASSERT_TRUE(unnamed) << unnamed.error();
  EXPECT_NE(alpha->address(), unnamed->address());
  EXPECT_EQ(unnamed->id(), unnamed->address());  // the default id is the bound address

  for (TestServer* server : {&*alpha, &*unnamed}) {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    CallRequest request;
    request.set_response_size(100);
    CallResponse response;
    ASSERT_TRUE(server->stub().Unary(&ctx, request, &response).ok());
    EXPECT_EQ(response.payload().size(), 100u);
    EXPECT_EQ(response.backend_id(), server->id());
    EXPECT_EQ(backend_id(ctx), server->id());
    EXPECT_EQ(metadata_values(ctx.GetServerTrailingMetadata(), "x-backend-id-trailer"),
              std::vector<std::string>{server->id()});
  }
}

TEST(TestServer, ServerStreamSendsCountMessagesApart) {
  auto server = TestServer::start("s");
  ASSERT_TRUE(server) << server.error();
  grpc::ClientContext ctx;
  set_deadline(ctx);
  CallRequest request;
  request.set_response_count(5);
  request.set_response_size(10);
  request.set_message_interval_ms(20);
  const auto started = Clock::now();
  auto reader = server->stub().ServerStream(&ctx, request);
  CallResponse response;
  uint64_t expected_seq = 0;
  while (reader->Read(&response)) {
    EXPECT_EQ(response.seq(), expected_seq++);
    EXPECT_EQ(response.payload(), testserver::pattern(10));
    EXPECT_EQ(response.backend_id(), "s");
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(expected_seq, 5u);
  EXPECT_GE(Clock::now() - started, 80ms);  // four gaps of 20 ms
  EXPECT_EQ(backend_id(ctx), "s");
}

TEST(TestServer, ClientStreamCountsRequestBytes) {
  auto server = TestServer::start("c");
  ASSERT_TRUE(server) << server.error();
  grpc::ClientContext ctx;
  set_deadline(ctx);
  CallResponse response;
  auto writer = server->stub().ClientStream(&ctx, &response);
  for (int size : {10, 20, 30}) {
    CallRequest request;
    request.set_payload(std::string(size, 'x'));
    request.set_response_size(7);  // only the first request's parameters count
    if (size != 10) request.set_status_code(3);
    ASSERT_TRUE(writer->Write(request));
  }
  ASSERT_TRUE(writer->WritesDone());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(response.request_bytes(), 60u);
  EXPECT_EQ(response.payload().size(), 7u);
  EXPECT_EQ(backend_id(ctx), "c");
}

TEST(TestServer, BidiAnswersEveryRequestAndEndsWithRequestedStatus) {
  auto server = TestServer::start("b");
  ASSERT_TRUE(server) << server.error();
  grpc::ClientContext ctx;
  set_deadline(ctx);
  auto stream = server->stub().BidiStream(&ctx);
  CallRequest request;
  request.set_payload("one");
  request.set_echo_payload(true);
  request.set_response_count(2);
  ASSERT_TRUE(stream->Write(request));
  CallResponse response;
  for (uint64_t seq : {0, 1}) {
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_EQ(response.payload(), "one");
    EXPECT_EQ(response.seq(), seq);
  }
  request.set_payload("two");
  request.set_response_count(0);  // means one response
  request.set_status_code(static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
  request.set_status_message("enough");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.payload(), "two");
  EXPECT_EQ(response.seq(), 2u);
  EXPECT_FALSE(stream->Read(&response));
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), "enough");

  // A plain half-close ends the call with OK.
  grpc::ClientContext ctx2;
  set_deadline(ctx2);
  auto stream2 = server->stub().BidiStream(&ctx2);
  ASSERT_TRUE(stream2->WritesDone());
  EXPECT_FALSE(stream2->Read(&response));
  EXPECT_TRUE(stream2->Finish().ok());
}

TEST(TestServer, EchoesRepeatedAndBinaryMetadataInHeadersAndTrailers) {
  auto server = TestServer::start("m");
  ASSERT_TRUE(server) << server.error();
  const std::string binary("\x00\x01\xfe\xff", 4);
  const std::vector<std::string> repeated = {"one", "two", "three"};

  grpc::ClientContext unary_ctx;
  grpc::ClientContext stream_ctx;
  for (grpc::ClientContext* ctx : {&unary_ctx, &stream_ctx}) {
    set_deadline(*ctx);
    for (const std::string& value : repeated) ctx->AddMetadata("x-rep", value);
    ctx->AddMetadata("x-data-bin", binary);
  }
  CallRequest request;
  request.set_response_count(1);
  CallResponse response;
  ASSERT_TRUE(server->stub().Unary(&unary_ctx, request, &response).ok());
  auto reader = server->stub().ServerStream(&stream_ctx, request);
  while (reader->Read(&response)) {
  }
  ASSERT_TRUE(reader->Finish().ok());

  for (grpc::ClientContext* ctx : {&unary_ctx, &stream_ctx}) {
    const auto& initial = ctx->GetServerInitialMetadata();
    const auto& trailing = ctx->GetServerTrailingMetadata();
    EXPECT_EQ(metadata_values(initial, "x-rep"), repeated);
    EXPECT_EQ(metadata_values(initial, "x-data-bin"), std::vector<std::string>{binary});
    EXPECT_EQ(metadata_values(trailing, "x-trailer-x-rep"), repeated);
    EXPECT_EQ(metadata_values(trailing, "x-trailer-x-data-bin"), std::vector<std::string>{binary});
    // Reserved keys are not echoed.
    EXPECT_TRUE(metadata_values(initial, "user-agent").empty());
    EXPECT_TRUE(metadata_values(trailing, "x-trailer-user-agent").empty());
    EXPECT_TRUE(metadata_values(trailing, "x-trailer-te").empty());
  }
}

TEST(TestServer, StatusRoundTripAfterHeaders) {
  auto server = TestServer::start("st");
  ASSERT_TRUE(server) << server.error();
  grpc::ClientContext ctx;
  set_deadline(ctx);
  CallRequest request;
  request.set_response_count(1);  // not Trailers-Only: headers first
  request.set_status_code(static_cast<int>(grpc::StatusCode::NOT_FOUND));
  request.set_status_message("not here");
  CallResponse response;
  const grpc::Status status = server->stub().Unary(&ctx, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "not here");
  EXPECT_EQ(metadata_values(ctx.GetServerInitialMetadata(), "x-backend-id"),
            std::vector<std::string>{"st"});

  // Three messages, then the status.
  grpc::ClientContext stream_ctx;
  set_deadline(stream_ctx);
  request.set_response_count(3);
  request.set_status_code(static_cast<int>(grpc::StatusCode::ABORTED));
  auto reader = server->stub().ServerStream(&stream_ctx, request);
  int messages = 0;
  while (reader->Read(&response)) ++messages;
  EXPECT_EQ(messages, 3);
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::ABORTED);
}

TEST(TestServer, TrailersOnlyWhenNoResponsePrecedesTheStatus) {
  auto server = TestServer::start("t");
  ASSERT_TRUE(server) << server.error();
  CallRequest request;
  request.set_response_count(0);
  request.set_status_code(static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  request.set_status_message("no");

  grpc::ClientContext ctx;
  set_deadline(ctx);
  ctx.AddMetadata("x-rep", "v");
  CallResponse response;
  const grpc::Status status = server->stub().Unary(&ctx, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(status.error_message(), "no");
  // Everything the headers would carry is in the single trailers block.
  EXPECT_TRUE(ctx.GetServerInitialMetadata().empty());
  const auto& trailing = ctx.GetServerTrailingMetadata();
  EXPECT_EQ(metadata_values(trailing, "x-backend-id"), std::vector<std::string>{"t"});
  EXPECT_EQ(metadata_values(trailing, "x-rep"), std::vector<std::string>{"v"});
  EXPECT_EQ(metadata_values(trailing, "x-trailer-x-rep"), std::vector<std::string>{"v"});
  EXPECT_EQ(backend_id(ctx), "t");

  grpc::ClientContext stream_ctx;
  set_deadline(stream_ctx);
  request.set_status_code(static_cast<int>(grpc::StatusCode::UNAVAILABLE));
  auto reader = server->stub().ServerStream(&stream_ctx, request);
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(stream_ctx.GetServerInitialMetadata().empty());
  EXPECT_EQ(backend_id(stream_ctx), "t");
}

TEST(TestServer, DelayHoldsTheResponse) {
  auto server = TestServer::start("d");
  ASSERT_TRUE(server) << server.error();
  grpc::ClientContext ctx;
  set_deadline(ctx);
  CallRequest request;
  request.set_delay_ms(300);
  CallResponse response;
  const auto started = Clock::now();
  ASSERT_TRUE(server->stub().Unary(&ctx, request, &response).ok());
  EXPECT_GE(Clock::now() - started, 300ms);
}

TEST(TestServer, CancelledCallsAreCounted) {
  auto server = TestServer::start("x");
  ASSERT_TRUE(server) << server.error();
  const int64_t before_micros = std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
  {  // A deadline that expires during the delay.
    grpc::ClientContext ctx;
    set_deadline(ctx, 200ms);
    CallRequest request;
    request.set_delay_ms(10'000);
    CallResponse response;
    EXPECT_EQ(server->stub().Unary(&ctx, request, &response).error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  {  // A client cancel in the middle of a stream.
    grpc::ClientContext ctx;
    set_deadline(ctx);
    CallRequest request;
    request.set_response_count(1000);
    request.set_message_interval_ms(10);
    auto reader = server->stub().ServerStream(&ctx, request);
    CallResponse response;
    ASSERT_TRUE(reader->Read(&response));
    ASSERT_TRUE(reader->Read(&response));
    ctx.TryCancel();
    while (reader->Read(&response)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  sluice::test::v1::StatsResponse stats;
  for (auto deadline = Clock::now() + 5s; Clock::now() < deadline;) {
    auto s = server->stats();
    ASSERT_TRUE(s) << s.error();
    stats = *s;
    if (stats.calls_cancelled() >= 2) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(stats.calls_cancelled(), 2u);
  EXPECT_EQ(stats.calls_total(), 2u);
  EXPECT_GE(stats.last_cancel_unix_micros(), before_micros);
}

TEST(TestServer, SixtyFourMiBMessagesBothWays) {
  auto server = TestServer::start("big");
  ASSERT_TRUE(server) << server.error();
  constexpr size_t k64MiB = 64u << 20;
  std::string payload(k64MiB, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7 + i / 4096);

  grpc::ClientContext echo_ctx;
  set_deadline(echo_ctx, 60s);
  CallRequest request;
  request.set_payload(payload);
  request.set_echo_payload(true);
  CallResponse response;
  const grpc::Status echo_status = server->stub().Unary(&echo_ctx, request, &response);
  ASSERT_TRUE(echo_status.ok()) << echo_status.error_message();
  EXPECT_TRUE(response.payload() == payload);

  grpc::ClientContext sized_ctx;
  set_deadline(sized_ctx, 60s);
  CallRequest sized;
  sized.set_response_size(k64MiB);
  const grpc::Status sized_status = server->stub().Unary(&sized_ctx, sized, &response);
  ASSERT_TRUE(sized_status.ok()) << sized_status.error_message();
  EXPECT_EQ(response.payload().size(), k64MiB);
  EXPECT_TRUE(response.payload() == testserver::pattern(k64MiB));  // the pattern, seamless
}

TEST(TestServer, StatsCountsByMethodAndResets) {
  auto server = TestServer::start("stats");
  ASSERT_TRUE(server) << server.error();
  auto& stub = server->stub();
  CallRequest request;
  CallResponse response;
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    ASSERT_TRUE(stub.Unary(&ctx, request, &response).ok());
  }
  {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    auto reader = stub.ServerStream(&ctx, request);
    while (reader->Read(&response)) {
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    auto writer = stub.ClientStream(&ctx, &response);
    ASSERT_TRUE(writer->WritesDone());
    ASSERT_TRUE(writer->Finish().ok());
  }
  {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    auto stream = stub.BidiStream(&ctx);
    ASSERT_TRUE(stream->WritesDone());
    ASSERT_TRUE(stream->Finish().ok());
  }
  ASSERT_TRUE(server->set_health("", true));  // not a counted call

  auto stats = server->stats(/*reset=*/true);
  ASSERT_TRUE(stats) << stats.error();
  EXPECT_EQ(stats->backend_id(), "stats");
  EXPECT_EQ(stats->calls_total(), 5u);
  EXPECT_EQ(stats->calls_cancelled(), 0u);
  EXPECT_EQ(stats->last_cancel_unix_micros(), 0);
  const auto& by_method = stats->calls_by_method();
  EXPECT_EQ(by_method.at("Unary"), 2u);
  EXPECT_EQ(by_method.at("ServerStream"), 1u);
  EXPECT_EQ(by_method.at("ClientStream"), 1u);
  EXPECT_EQ(by_method.at("BidiStream"), 1u);

  auto after_reset = server->stats();
  ASSERT_TRUE(after_reset) << after_reset.error();
  EXPECT_EQ(after_reset->calls_total(), 0u);
  EXPECT_TRUE(after_reset->calls_by_method().empty());
}

TEST(TestServer, SetHealthIsSeenByHealthCheck) {
  auto server = TestServer::start("h");
  ASSERT_TRUE(server) << server.error();
  auto health = grpc::health::v1::Health::NewStub(server->channel());
  auto check = [&](const std::string& service, HealthCheckResponse::ServingStatus* out) {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    const grpc::Status status = health->Check(&ctx, request, &response);
    *out = response.status();
    return status.error_code();
  };
  HealthCheckResponse::ServingStatus status{};
  ASSERT_EQ(check("", &status), grpc::StatusCode::OK);
  EXPECT_EQ(status, HealthCheckResponse::SERVING);
  ASSERT_EQ(check("sluice.test.v1.TestService", &status), grpc::StatusCode::OK);
  EXPECT_EQ(status, HealthCheckResponse::SERVING);
  EXPECT_EQ(check("custom", &status), grpc::StatusCode::NOT_FOUND);

  ASSERT_TRUE(server->set_health("", false));
  ASSERT_EQ(check("", &status), grpc::StatusCode::OK);
  EXPECT_EQ(status, HealthCheckResponse::NOT_SERVING);
  ASSERT_TRUE(server->set_health("custom", true));
  ASSERT_EQ(check("custom", &status), grpc::StatusCode::OK);
  EXPECT_EQ(status, HealthCheckResponse::SERVING);
  ASSERT_TRUE(server->set_health("", true));
  ASSERT_EQ(check("", &status), grpc::StatusCode::OK);
  EXPECT_EQ(status, HealthCheckResponse::SERVING);
}

TEST(TestServer, SigtermExitsZeroAndReportsServedCalls) {
  auto server = TestServer::start("bye");
  ASSERT_TRUE(server) << server.error();
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    CallRequest request;
    CallResponse response;
    ASSERT_TRUE(server->stub().Unary(&ctx, request, &response).ok());
  }
  // The client keeps its (now idle) connection open: that must not hold the exit up.
  ASSERT_EQ(server->channel()->GetState(false), GRPC_CHANNEL_READY);
  const auto started = Clock::now();
  auto report = server->stop();
  ASSERT_TRUE(report) << report.error();
  EXPECT_LT(Clock::now() - started, 2s);
  EXPECT_EQ(report->exit_code, 0);
  ASSERT_EQ(report->output.size(), 1u);
  EXPECT_EQ(report->output[0], "served 3 calls: Unary=3");
}

TEST(TestServer, SigtermLetsRunningCallsFinish) {
  auto server = TestServer::start("drain");
  ASSERT_TRUE(server) << server.error();
  grpc::ClientContext ctx;
  set_deadline(ctx);
  CallRequest request;
  request.set_delay_ms(500);
  CallResponse response;
  std::mutex mu;
  std::condition_variable done_cv;
  std::optional<grpc::Status> result;
  server->stub().async()->Unary(&ctx, &request, &response, [&](grpc::Status status) {
    std::lock_guard lock(mu);
    result = status;
    done_cv.notify_one();
  });
  // Wait until the server has the call, then ask it to stop.
  for (auto deadline = Clock::now() + 5s; Clock::now() < deadline;) {
    auto stats = server->stats();
    ASSERT_TRUE(stats) << stats.error();
    if (stats->calls_total() == 1) break;
    std::this_thread::sleep_for(5ms);
  }
  auto report = server->stop();
  ASSERT_TRUE(report) << report.error();
  EXPECT_EQ(report->exit_code, 0);
  EXPECT_EQ(report->output, std::vector<std::string>{"served 1 calls: Unary=1"});
  std::unique_lock lock(mu);
  ASSERT_TRUE(done_cv.wait_for(lock, 5s, [&] { return result.has_value(); }));
  EXPECT_TRUE(result->ok()) << result->error_message();
  EXPECT_EQ(response.backend_id(), "drain");
}

TEST(TestServer, ThousandConcurrentDelayedCallsNeedFewThreads) {
  auto server = TestServer::start("many");
  ASSERT_TRUE(server) << server.error();
  constexpr int kCalls = 1000;
  struct Call {
    grpc::ClientContext ctx;
    CallRequest request;
    CallResponse response;
  };
  std::vector<Call> calls(kCalls);
  std::mutex mu;
  std::condition_variable done_cv;
  int done = 0;
  int ok = 0;
  const auto started = Clock::now();
  for (Call& call : calls) {
    set_deadline(call.ctx, 30s);
    call.request.set_delay_ms(1000);
    server->stub().async()->Unary(&call.ctx, &call.request, &call.response,
                                  [&](grpc::Status status) {
                                    std::lock_guard lock(mu);
                                    ++done;
                                    if (status.ok()) ++ok;
                                    done_cv.notify_one();
                                  });
  }
  std::this_thread::sleep_for(500ms);  // all calls are waiting in the server now
  const long threads = proc_status_value(server->pid(), "Threads");
  std::unique_lock lock(mu);
  ASSERT_TRUE(done_cv.wait_for(lock, 30s, [&] { return done == kCalls; }));
  EXPECT_EQ(ok, kCalls);
  EXPECT_LT(Clock::now() - started, 10s);
  EXPECT_GT(threads, 0);
  EXPECT_LT(threads, 64);
  auto stats = server->stats();
  ASSERT_TRUE(stats) << stats.error();
  EXPECT_EQ(stats->calls_total(), static_cast<uint64_t>(kCalls));
}

TEST(TestServer, SlowReaderSlowsTheStream) {
  auto server = TestServer::start("slow");
  ASSERT_TRUE(server) << server.error();
  grpc::ClientContext ctx;
  set_deadline(ctx);
  CallRequest request;
  request.set_response_count(16 * 1024);  // 1 GiB in 64 KiB messages, if nobody held it back
  request.set_response_size(64 * 1024);
  auto reader = server->stub().ServerStream(&ctx, request);
  CallResponse response;
  ASSERT_TRUE(reader->Read(&response));
  const long rss_before_kib = proc_status_value(server->pid(), "VmRSS");
  std::this_thread::sleep_for(700ms);  // a runaway server would buffer hundreds of MiB now
  const long rss_after_kib = proc_status_value(server->pid(), "VmRSS");
  EXPECT_LT(rss_after_kib - rss_before_kib, 64 * 1024) << "server RSS grew by KiB";
  ctx.TryCancel();
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

// A call keeps the client polling, so it sees the GOAWAY at once (an idle grpc++ client only
// notices it on its 5 s backup poll).
grpc::Status unary_with_delay(TestServer& server, uint32_t delay_ms) {
  grpc::ClientContext ctx;
  set_deadline(ctx);
  CallRequest request;
  request.set_delay_ms(delay_ms);
  CallResponse response;
  return server.stub().Unary(&ctx, request, &response);
}

TEST(TestServer, MaxConnectionAgeDrainsCallsWithinGrace) {
  auto server = TestServer::start(
      "aged", {"--max-connection-age", "300ms", "--max-connection-age-grace", "2s"});
  ASSERT_TRUE(server) << server.error();
  // The connection is made by this call; it ages out while the call runs, which the grace
  // lets finish.
  const grpc::Status status = unary_with_delay(*server, 800);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(server->channel()->GetState(false), GRPC_CHANNEL_READY) << "no GOAWAY seen";
  EXPECT_TRUE(unary_with_delay(*server, 0).ok());  // on a new connection
}

TEST(TestServer, MaxConnectionAgeGraceCutsLongCalls) {
  auto server = TestServer::start(
      "cut", {"--max-connection-age", "200ms", "--max-connection-age-grace", "200ms"});
  ASSERT_TRUE(server) << server.error();
  const auto started = Clock::now();
  EXPECT_EQ(unary_with_delay(*server, 5000).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_LT(Clock::now() - started, 3s);
}

TEST(TestServer, BadDurationFailsAtStart) {
  auto child = ChildProcess::spawn(bin_path("sluice-testserver"),
                                   {"--listen", "127.0.0.1:0", "--max-connection-age", "soon"});
  ASSERT_TRUE(child) << child.error();
  EXPECT_EQ(child->read_line(5s), std::nullopt);
  EXPECT_TRUE(child->stdout_closed());
  const auto code = child->wait_exit(5s);
  ASSERT_TRUE(code);
  EXPECT_NE(*code, 0);
}

TEST(ChildProcess, ReadsLinesAndExitCode) {
  auto child = ChildProcess::spawn("/bin/sh", {"-c", "echo one; echo two; printf tail; exit 3"});
  ASSERT_TRUE(child) << child.error();
  EXPECT_EQ(child->read_line(5s), "one");
  EXPECT_EQ(child->read_remaining_lines(5s), (std::vector<std::string>{"two", "tail"}));
  EXPECT_EQ(child->wait_exit(5s), 3);
  EXPECT_FALSE(child->running());
}

TEST(ChildProcess, ReadLineTimesOutAndSignalsReachTheChild) {
  auto child = ChildProcess::spawn("/bin/sleep", {"30"});
  ASSERT_TRUE(child) << child.error();
  EXPECT_EQ(child->read_line(50ms), std::nullopt);
  EXPECT_FALSE(child->stdout_closed());
  EXPECT_TRUE(child->running());
  EXPECT_TRUE(child->send_signal(SIGTERM));
  EXPECT_EQ(child->wait_exit(5s), 128 + SIGTERM);
}

TEST(ChildProcess, DestructorKillsARunningChild) {
  pid_t pid = -1;
  {
    auto child = ChildProcess::spawn("/bin/sleep", {"30"});
    ASSERT_TRUE(child) << child.error();
    pid = child->pid();
    EXPECT_EQ(kill(pid, 0), 0);
  }
  EXPECT_EQ(kill(pid, 0), -1);  // killed and reaped: the PID is gone
}

TEST(ChildProcess, MissingBinaryIsAnError) {
  auto child = ChildProcess::spawn("/nonexistent/binary", {});
  EXPECT_FALSE(child);
}

}  // namespace
}  // namespace sluice::testing
