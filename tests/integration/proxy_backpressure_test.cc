// Flow control is coupled end to end: a backend streaming 1 GiB to a client that reads slowly
// must not make the proxy buffer it. The bound: what the HTTP/2 windows allow per stream
// (1 MiB stream window upstream and downstream) plus the write batch; we assert 48 MiB of
// growth at most, against a baseline RSS of a few MiB, while the whole 1 GiB passes.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "integration/sluice_process.h"
#include "sluice/test/v1/test.grpc.pb.h"
#include "support/grpc_helpers.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

TEST(ProxyBackpressure, SlowReaderOfOneGibKeepsProxyMemoryBounded) {
  auto backend = TestServer::start("big");
  ASSERT_TRUE(backend) << backend.error();
  auto proxy = SluiceProcess::start(SluiceProcess::simple_config({backend->address()}));
  ASSERT_TRUE(proxy) << proxy.error();
  auto channel = make_channel(proxy->address());
  auto stub = sluice::test::v1::TestService::NewStub(channel);

  const long baseline_kib = proxy->rss_kib();
  std::atomic<long> peak_kib{baseline_kib};
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done) {
      peak_kib = std::max(peak_kib.load(), proxy->rss_kib());
      std::this_thread::sleep_for(5ms);
    }
  });

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 120s);
  sluice::test::v1::CallRequest req;
  req.set_response_count(1024);
  req.set_response_size(1 << 20);
  auto reader = stub->ServerStream(&ctx, req);
  sluice::test::v1::CallResponse resp;
  uint64_t bytes = 0;
  int messages = 0;
  while (reader->Read(&resp)) {
    bytes += resp.payload().size();
    if (++messages % 16 == 0) std::this_thread::sleep_for(20ms);  // a slow reader
  }
  auto status = reader->Finish();
  done = true;
  sampler.join();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(bytes, 1ull << 30);
  const long growth_kib = peak_kib - baseline_kib;
  RecordProperty("proxy_rss_baseline_kib", std::to_string(baseline_kib));
  RecordProperty("proxy_rss_peak_kib", std::to_string(peak_kib.load()));
  std::printf("proxy RSS: baseline %ld KiB, peak %ld KiB, growth %ld KiB for 1 GiB streamed\n",
              baseline_kib, peak_kib.load(), growth_kib);
#if !defined(__SANITIZE_ADDRESS__)  // ASan's quarantine keeps freed buffers resident
  EXPECT_LT(growth_kib, 48 * 1024);
#endif
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

}  // namespace
}  // namespace sluice::testing
