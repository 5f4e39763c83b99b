// Flow control is coupled end to end, in both directions: a reader that stops reading stops the
// writer on the other side of the proxy once the HTTP/2 windows are full, and the proxy holds
// no more than those windows. Each test pauses a reader outright (not merely slows it), checks
// that the far writer stalled and what the proxy holds, then resumes and checks every byte.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "integration/sluice_process.h"
#include "payload_pattern.h"
#include "sluice/test/v1/test.grpc.pb.h"
#include "support/grpc_helpers.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using sluice::test::v1::CallRequest;
using sluice::test::v1::CallResponse;
using sluice::test::v1::StatsResponse;

constexpr size_t kMiB = 1 << 20;
// The proxy's per-stream receive window on both sides (config default http2.stream_window):
// the most it may hold unconsumed for one stream and direction. One frame of slack.
constexpr long kStreamWindowBound = (1 << 20) + 16 * 1024;
// How far a writer may run ahead of a paused reader when the proxy holds only its windows: the
// reader's own window and socket buffers, the proxy's stream window, the writer's socket buffer.
// A proxy that buffered without bound would let the writer finish (hundreds of MiB) instead.
constexpr uint64_t kMaxAheadBytes = 48 * kMiB;

// Payload i of an upload: distinct per message, so a reordered or repeated message shows.
std::string upload_payload(size_t i, size_t size) {
  std::string p = testserver::pattern(size + i % 65521);
  return p.substr(i % 65521);
}

// Polls the backend's Stats until `progress` (a count out of them) has not moved for 500 ms:
// the writer it measures is blocked. Returns the stats then; fails after `limit`.
template <typename Progress>
StatsResponse wait_until_stalled(TestServer& backend, Progress progress,
                                 std::chrono::seconds limit = 20s) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  auto last = backend.stats();
  auto since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(100ms);
    auto now = backend.stats();
    if (!now || !last) {
      last = now;
      continue;
    }
    if (progress(*now) != progress(*last)) {
      last = now;
      since = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - since >= 500ms) {
      return *now;
    }
  }
  ADD_FAILURE() << "the writer never stalled";
  return last ? *last : StatsResponse();
}

long metric(const SluiceProcess& proxy, const char* name, const char* side) {
  return proxy.metric(std::string(name) + "{side=\"" + side + "\"}");
}

TEST(ProxyBackpressure, PausedReaderOfOneGibStopsTheBackendAndBoundsTheProxy) {
  auto backend = TestServer::start("big");
  ASSERT_TRUE(backend) << backend.error();
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config({backend->address()}));
  ASSERT_TRUE(proxy) << proxy.error();
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy->address()));
  const long baseline_kib = proxy->rss_kib();

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 180s);
  CallRequest req;
  req.set_response_count(1024);
  req.set_response_size(kMiB);
  auto reader = stub->ServerStream(&ctx, req);
  const std::string expected = testserver::pattern(kMiB);
  CallResponse resp;
  uint64_t messages = 0;
  auto read_one = [&] {
    if (!reader->Read(&resp)) return false;
    EXPECT_EQ(resp.seq(), messages) << "messages out of order or repeated";
    EXPECT_TRUE(resp.payload() == expected) << "message " << messages << " differs";
    ++messages;
    return true;
  };
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(read_one());

  // The client stops reading: the backend must stop soon after, far short of 1 GiB.
  auto paused =
      wait_until_stalled(*backend, [](const StatsResponse& s) { return s.messages_sent(); });
  const uint64_t ahead = (paused.messages_sent() - messages) * kMiB;
  const long up_unconsumed = metric(*proxy, "sluice_http2_unconsumed_bytes", "upstream");
  const long down_buffered = metric(*proxy, "sluice_http2_write_buffered_bytes", "downstream");
  std::printf(
      "paused reader: backend %lu messages ahead, proxy holds %ld B unconsumed upstream, "
      "%ld B unwritten downstream\n",
      static_cast<unsigned long>(ahead / kMiB), up_unconsumed, down_buffered);
  EXPECT_LT(ahead, kMaxAheadBytes) << "the backend ran ahead of a paused reader";
  EXPECT_LE(up_unconsumed, kStreamWindowBound);
  EXPECT_LE(down_buffered, kStreamWindowBound);

  while (read_one()) {
  }
  auto status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(messages, 1024u);
  const long growth_kib = proxy->rss_kib() - baseline_kib;
  std::printf("proxy RSS growth %ld KiB after 1 GiB streamed\n", growth_kib);
#if !defined(__SANITIZE_ADDRESS__)  // ASan's quarantine keeps freed buffers resident
  EXPECT_LT(growth_kib, 48 * 1024);
#endif
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyBackpressure, PausedBackendReaderHoldsAnUploadAtTheWindows) {
  auto backend = TestServer::start("up");
  ASSERT_TRUE(backend) << backend.error();
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config({backend->address()}));
  ASSERT_TRUE(proxy) << proxy.error();
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy->address()));

  constexpr size_t kMessages = 256;
  constexpr uint32_t kPauseAfter = 4;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 180s);
  CallResponse resp;
  auto writer = stub->ClientStream(&ctx, &resp);
  std::atomic<size_t> written{0};
  uint64_t digest = testserver::kFnvOffset;
  std::thread client([&] {
    for (size_t i = 0; i < kMessages; ++i) {
      CallRequest req;
      if (i == 0) {  // the backend reads 4 requests, then stops reading for 6 s
        req.set_read_pause_after(kPauseAfter);
        req.set_read_pause_ms(6000);
      }
      req.set_payload(upload_payload(i, kMiB));
      digest = testserver::fnv1a(digest, req.payload());
      if (!writer->Write(req)) break;
      ++written;
    }
    writer->WritesDone();
  });

  auto paused =
      wait_until_stalled(*backend, [](const StatsResponse& s) { return s.messages_received(); });
  const size_t written_at_pause = written;
  const long down_unconsumed = metric(*proxy, "sluice_http2_unconsumed_bytes", "downstream");
  const long up_buffered = metric(*proxy, "sluice_http2_write_buffered_bytes", "upstream");
  std::printf(
      "paused backend reader: it read %lu, the client wrote %zu, proxy holds %ld B "
      "unconsumed downstream, %ld B unwritten upstream\n",
      static_cast<unsigned long>(paused.messages_received()), written_at_pause, down_unconsumed,
      up_buffered);
  EXPECT_EQ(paused.messages_received(), kPauseAfter) << "the pause ended before the check";
  EXPECT_LT((written_at_pause - paused.messages_received()) * kMiB, kMaxAheadBytes)
      << "the client's writes did not block on a paused backend";
  EXPECT_LE(down_unconsumed, kStreamWindowBound);
  EXPECT_LE(up_buffered, kStreamWindowBound);

  client.join();
  auto status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(written.load(), kMessages);
  EXPECT_EQ(resp.request_bytes(), kMessages * kMiB);
  EXPECT_EQ(resp.request_digest(), digest) << "the upload arrived reordered, repeated or cut";
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyBackpressure, BidiStreamPausedBothWaysResumesIntact) {
  // The backend echoes each request before it reads the next; a client that writes but does
  // not read fills the response windows, the backend's write blocks, it stops reading, and the
  // request windows fill: both directions stand still until the client reads again.
  auto backend = TestServer::start("bidi");
  ASSERT_TRUE(backend) << backend.error();
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config({backend->address()}));
  ASSERT_TRUE(proxy) << proxy.error();
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy->address()));

  constexpr size_t kMessages = 512;
  constexpr size_t kSize = 256 * 1024;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 180s);
  auto stream = stub->BidiStream(&ctx);
  std::atomic<size_t> written{0};
  std::thread client([&] {
    for (size_t i = 0; i < kMessages; ++i) {
      CallRequest req;
      req.set_echo_payload(true);
      req.set_payload(upload_payload(i, kSize));
      if (!stream->Write(req)) break;
      ++written;
    }
    stream->WritesDone();
  });

  auto paused = wait_until_stalled(
      *backend, [](const StatsResponse& s) { return s.messages_received() + s.messages_sent(); });
  const size_t written_at_pause = written;
  std::printf("bidi paused: client wrote %zu, backend read %lu and wrote %lu\n", written_at_pause,
              static_cast<unsigned long>(paused.messages_received()),
              static_cast<unsigned long>(paused.messages_sent()));
  EXPECT_LT(written_at_pause, kMessages) << "the client's writes never blocked";
  EXPECT_LT(paused.messages_sent() * kSize, kMaxAheadBytes)
      << "the backend wrote on while nobody read";
  EXPECT_LT((written_at_pause - paused.messages_received()) * kSize, kMaxAheadBytes);
  for (const char* side : {"downstream", "upstream"}) {
    EXPECT_LE(metric(*proxy, "sluice_http2_unconsumed_bytes", side), kStreamWindowBound) << side;
    EXPECT_LE(metric(*proxy, "sluice_http2_write_buffered_bytes", side), kStreamWindowBound)
        << side;
  }

  CallResponse resp;
  size_t read = 0;
  while (stream->Read(&resp)) {
    EXPECT_EQ(resp.seq(), read);
    EXPECT_TRUE(resp.payload() == upload_payload(read, kSize)) << "echo " << read << " differs";
    ++read;
  }
  client.join();
  auto status = stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(read, kMessages);
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

}  // namespace
}  // namespace sluice::testing
