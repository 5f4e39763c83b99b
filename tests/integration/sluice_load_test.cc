// sluice-load as users run it: a real process against real testservers. Its JSON must agree
// with what the servers themselves counted, the open loop must hold its rate, and queueing
// at the target must show in the latencies (no coordinated omission).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "integration/load_process.h"
#include "support/bin_path.h"
#include "support/child_process.h"
#include "support/test_server.h"

namespace sluice::testing {
namespace {

uint64_t served_by(TestServer& server) {
  auto stats = server.stats();
  EXPECT_TRUE(stats) << stats.error();
  return stats ? stats->calls_total() : 0;
}

TEST(SluiceLoad, ClosedLoopCountsAgreeWithTheServer) {
  auto server = TestServer::start("solo");
  ASSERT_TRUE(server) << server.error();
  LoadRun run = run_load(server->address(), {"--calls", "3000", "--concurrency", "16",
                                             "--connections", "2", "--response-size", "100"});
  ASSERT_EQ(run.exit_code, 0);
  ASSERT_TRUE(run.result.is_object()) << "no JSON result";
  EXPECT_EQ(run.result["calls"], 3000);
  EXPECT_EQ(run.result["ok"], 3000);
  EXPECT_EQ(run.result["errors"], 0);
  EXPECT_EQ(run.result["unfinished"], 0);
  EXPECT_EQ(run.result["backends"]["solo"], 3000);
  EXPECT_EQ(served_by(*server), 3000u);
  // The per-interval series adds up to the whole run.
  uint64_t in_series = 0;
  for (const auto& point : run.result["series"]) in_series += point["calls"].get<uint64_t>();
  EXPECT_EQ(in_series, 3000u);
  const auto& latency = run.result["latency_ms"];
  EXPECT_GT(latency["p50"].get<double>(), 0.0);
  EXPECT_LE(latency["p50"].get<double>(), latency["p99"].get<double>());
  EXPECT_LE(latency["p99"].get<double>(), latency["max"].get<double>());
}

TEST(SluiceLoad, OpenLoopHoldsItsRate) {
  auto server = TestServer::start("solo");
  ASSERT_TRUE(server) << server.error();
  LoadRun run = run_load(server->address(), {"--rate", "400", "--duration", "2s"});
  ASSERT_EQ(run.exit_code, 0);
  ASSERT_TRUE(run.result.is_object());
  // 2 s at 400/s: call i is due at i/400 s, so calls 0..799 are due within the run.
  EXPECT_EQ(run.result["calls"], 800);
  EXPECT_NEAR(run.result["calls_per_second"].get<double>(), 400.0, 4.0);
  EXPECT_EQ(served_by(*server), 800u);
}

TEST(SluiceLoad, ThreadsShareTheRateAndTheConnections) {
  auto a = TestServer::start("a");
  ASSERT_TRUE(a) << a.error();
  LoadRun run = run_load(a->address(), {"--threads", "2", "--connections", "4", "--rate", "1000",
                                        "--duration", "1s", "--interval", "100ms"});
  ASSERT_EQ(run.exit_code, 0);
  ASSERT_TRUE(run.result.is_object());
  EXPECT_EQ(run.result["calls"], 1000);
  EXPECT_EQ(run.result["ok"], 1000);
  EXPECT_GE(run.result["series"].size(), 10u);
  EXPECT_EQ(served_by(*a), 1000u);
}

TEST(SluiceLoad, OpenLoopLatencyIncludesTheWaitForTheTarget) {
  // The server takes 20 ms a call, one call at a time: 50 calls/s at most. Asked for 100/s over
  // one second, the backlog grows to about a second; a tool that measured from the actual
  // send would report ~20 ms for every call.
  auto server = TestServer::start("slow", {"--max-concurrent-streams", "1"});
  ASSERT_TRUE(server) << server.error();
  LoadRun run = run_load(server->address(), {"--rate", "100", "--duration", "1s", "--delay-ms",
                                             "20", "--drain", "10s"});
  ASSERT_EQ(run.exit_code, 0);
  ASSERT_TRUE(run.result.is_object());
  EXPECT_EQ(run.result["calls"], 100);
  EXPECT_GT(run.result["latency_ms"]["p99"].get<double>(), 500.0);
  EXPECT_LT(run.result["latency_ms"]["min"].get<double>(), 100.0);
}

TEST(SluiceLoad, StatusCodesAreCountedByName) {
  auto server = TestServer::start("solo");
  ASSERT_TRUE(server) << server.error();
  LoadRun run = run_load(server->address(), {"--calls", "200", "--status-code", "5"});
  ASSERT_EQ(run.exit_code, 0);
  ASSERT_TRUE(run.result.is_object());
  EXPECT_EQ(run.result["calls"], 200);
  EXPECT_EQ(run.result["errors"], 200);
  EXPECT_EQ(run.result["status"]["NOT_FOUND"], 200);
}

TEST(SluiceLoad, StreamingMethodsRun) {
  auto server = TestServer::start("solo");
  ASSERT_TRUE(server) << server.error();
  for (const char* method : {"server_stream", "client_stream", "bidi_stream"}) {
    LoadRun run =
        run_load(server->address(), {"--method", method, "--messages", "20", "--calls", "100"});
    ASSERT_EQ(run.exit_code, 0) << method;
    EXPECT_EQ(run.result["ok"], 100) << method;
  }
}

TEST(SluiceLoad, UnreachableTargetFailsWithAClearMessage) {
  auto server = TestServer::start("gone");
  ASSERT_TRUE(server) << server.error();
  const std::string address = server->address();
  ASSERT_TRUE(server->stop());
  // Through a shell that joins stderr to the stdout we read.
  auto process = ChildProcess::spawn(
      "/bin/sh", {"-c", "exec \"$0\" \"$@\" 2>&1", load_bin(), address, "--calls", "10"});
  ASSERT_TRUE(process) << process.error();
  const auto lines = process->read_remaining_lines(std::chrono::seconds(20));
  EXPECT_EQ(process->wait_exit(std::chrono::seconds(20)), 2);
  std::string output;
  for (const auto& line : lines) output += line + "\n";
  // Says what failed and where, not just that something did.
  EXPECT_NE(output.find("cannot connect to " + address), std::string::npos) << output;
  EXPECT_NE(output.find("refused"), std::string::npos) << output;
}

}  // namespace
}  // namespace sluice::testing
