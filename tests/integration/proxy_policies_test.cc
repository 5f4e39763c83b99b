// Balancing policies end to end, real processes: the load-aware policies starve a slow backend,
// weights split calls, ring_hash keeps keys in place, subsets limit who gets connections.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "integration/load_process.h"
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

std::vector<TestServer> start_backends(int n, const std::string& prefix,
                                       const std::vector<std::string>& extra_of_first = {}) {
  std::vector<TestServer> out;
  for (int i = 0; i < n; ++i) {
    auto s = TestServer::start(prefix + std::to_string(i),
                               i == 0 ? extra_of_first : std::vector<std::string>{});
    EXPECT_TRUE(s) << s.error();
    if (s) out.push_back(std::move(*s));
  }
  return out;
}

// One listener, one cluster "backends" with `cluster_yaml` lines (indented four spaces) and
// `endpoint_lines` (each a YAML list item without the dash).
std::string config(const std::string& cluster_yaml, const std::vector<std::string>& endpoints) {
  std::ostringstream y;
  y << "workers: 1\ndrain_timeout: 5s\nadmin: {address: 127.0.0.1:0}\n"
    << "listeners:\n  - name: main\n    address: 127.0.0.1:0\n"
    << "clusters:\n  - name: backends\n    connect_timeout: 1s\n"
    << cluster_yaml << "    endpoints:\n";
  for (const auto& e : endpoints) y << "      - " << e << "\n";
  return y.str();
}

std::vector<std::string> addresses(const std::vector<TestServer>& backends) {
  std::vector<std::string> out;
  for (const auto& b : backends) out.push_back(b.address());
  return out;
}

double share(const nlohmann::json& result, const std::string& backend) {
  const double calls = result.value("calls", 0.0);
  if (calls == 0 || !result["backends"].contains(backend)) return 0;
  return result["backends"][backend].get<double>() / calls;
}

// One of three backends answers after 200 ms, the others at once; 1000 calls/s open loop.
// The measured second follows a one-second warm-up in which the policy learns.
void expect_slow_backend_share_at_most(const std::string& policy_yaml, double max_share) {
  auto backends = start_backends(3, "s", {"--extra-delay", "200ms"});
  ASSERT_EQ(backends.size(), 3u);
  auto proxy =
      SluiceProcess::start(config("    policy: " + policy_yaml + "\n", addresses(backends)));
  ASSERT_TRUE(proxy) << proxy.error();
  LoadRun run = run_load(proxy->address(), {"--rate", "1000", "--duration", "4s", "--warmup", "1s",
                                            "--delay-ms", "20", "--connections", "2"});
  ASSERT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.result.value("errors", -1), 0);
  EXPECT_GT(run.result.value("calls", 0), 2500);
  const double slow = share(run.result, "s0");
  std::printf("%s: the slow backend got %.2f%% of %d calls\n", policy_yaml.c_str(), slow * 100,
              run.result.value("calls", 0));
  EXPECT_LE(slow, max_share) << policy_yaml << ": " << run.result["backends"].dump();
  EXPECT_GT(slow, 0.0) << "the slow backend is still probed now and then";
  EXPECT_EQ(proxy->flow_imbalance(), "");
}

TEST(ProxyPolicies, PeakEwmaGivesASlowBackendAtMostFivePercent) {
  // The issue asks for 5%; 0.5% is typical. Without round-trip samples peak_ewma would fall
  // back to counting in-flight calls (about 5.5%, as least_request), which 2.5% catches.
  expect_slow_backend_share_at_most("peak_ewma", 0.025);
}

TEST(ProxyPolicies, LeastRequestGivesASlowBackendAtMostTwelvePercent) {
  expect_slow_backend_share_at_most("{name: least_request, choice_count: 2}", 0.12);
}

TEST(ProxyPolicies, RoundRobinIgnoresTheSlowBackendAsTheBaseline) {
  // The problem the policies solve: round robin keeps sending it a third.
  auto backends = start_backends(3, "s", {"--extra-delay", "200ms"});
  auto proxy = SluiceProcess::start(config("", addresses(backends)));
  ASSERT_TRUE(proxy) << proxy.error();
  LoadRun run = run_load(proxy->address(), {"--concurrency", "30", "--calls", "600"});
  ASSERT_EQ(run.exit_code, 0);
  EXPECT_NEAR(share(run.result, "s0"), 1 / 3.0, 0.01);
}

TEST(ProxyPolicies, WeightsOneOneTwoSplitTwentyFiveTwentyFiveFifty) {
  auto backends = start_backends(3, "w");
  ASSERT_EQ(backends.size(), 3u);
  const std::vector<std::string> endpoints = {
      "{address: " + backends[0].address() + ", weight: 1}",
      "{address: " + backends[1].address() + ", weight: 1}",
      "{address: " + backends[2].address() + ", weight: 2}"};
  for (const char* policy : {"weighted_round_robin", "random"}) {
    auto proxy =
        SluiceProcess::start(config(std::string("    policy: ") + policy + "\n", endpoints));
    ASSERT_TRUE(proxy) << proxy.error();
    LoadRun run = run_load(proxy->address(), {"--concurrency", "8", "--calls", "10000"});
    ASSERT_EQ(run.exit_code, 0) << policy;
    EXPECT_EQ(run.result.value("errors", -1), 0) << policy;
    EXPECT_NEAR(share(run.result, "w0"), 0.25, 0.02) << policy << run.result["backends"].dump();
    EXPECT_NEAR(share(run.result, "w1"), 0.25, 0.02) << policy;
    EXPECT_NEAR(share(run.result, "w2"), 0.50, 0.02) << policy;
  }
}

// The backend each key reaches (two calls per key must agree).
std::map<std::string, std::string> backend_by_key(const std::string& target, int keys) {
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(target));
  std::map<std::string, std::string> out;
  for (int k = 0; k < keys; ++k) {
    const std::string key = "user-" + std::to_string(k);
    for (int again = 0; again < 2; ++again) {
      grpc::ClientContext ctx;
      ctx.AddMetadata("x-user", key);
      CallResponse resp;
      auto status = stub->Unary(&ctx, CallRequest(), &resp);
      EXPECT_TRUE(status.ok()) << status.error_message();
      auto [it, fresh] = out.emplace(key, resp.backend_id());
      EXPECT_EQ(it->second, resp.backend_id()) << key << " moved while membership was stable";
    }
  }
  return out;
}

TEST(ProxyPolicies, RingHashKeepsKeysInPlaceAndMovesAboutASixthToANewBackend) {
  auto backends = start_backends(6, "r");
  ASSERT_EQ(backends.size(), 6u);
  const std::string policy = "    policy: {name: ring_hash, hash_header: x-user}\n";
  auto all = addresses(backends);
  auto proxy = SluiceProcess::start(config(policy, {all.begin(), all.end() - 1}));
  ASSERT_TRUE(proxy) << proxy.error();
  constexpr int kKeys = 300;
  const auto before = backend_by_key(proxy->address(), kKeys);
  std::set<std::string> used;
  for (const auto& [key, backend] : before) used.insert(backend);
  EXPECT_EQ(used.size(), 5u) << "keys spread over every backend";

  proxy->rewrite_config(config(policy, all));
  auto [code, body] = proxy->admin_request("POST", "/reload");
  ASSERT_EQ(code, 200) << body;
  const auto after = backend_by_key(proxy->address(), kKeys);
  int moved = 0;
  for (const auto& [key, backend] : before) {
    if (after.at(key) == backend) continue;
    ++moved;
    EXPECT_EQ(after.at(key), "r5") << key << " moved between backends that stayed";
  }
  // Ideal: a sixth (50 of 300).
  EXPECT_GT(moved, kKeys / 6 / 2);
  EXPECT_LT(moved, kKeys / 6 * 2);

  // A call without the header still gets an answer (a random backend).
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy->address()));
  grpc::ClientContext ctx;
  CallResponse resp;
  EXPECT_TRUE(stub->Unary(&ctx, CallRequest(), &resp).ok());
}

// Calls and connections per backend, from the backends' own counters and the proxy's view.
TEST(ProxyPolicies, SubsetOfTwoGivesCallsAndConnectionsToTwoBackendsOnly) {
  auto backends = start_backends(3, "b");
  ASSERT_EQ(backends.size(), 3u);
  auto proxy = SluiceProcess::start(config("    subset: {size: 2}\n", addresses(backends)));
  ASSERT_TRUE(proxy) << proxy.error();
  LoadRun run = run_load(proxy->address(), {"--concurrency", "8", "--calls", "600"});
  ASSERT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.result.value("errors", -1), 0);
  int used = 0;
  for (auto& b : backends) {
    auto stats = b.stats();
    ASSERT_TRUE(stats) << stats.error();
    if (stats->calls_total() > 0) {
      ++used;
      EXPECT_NEAR(static_cast<double>(stats->calls_total()), 300, 1) << b.id();
    }
  }
  EXPECT_EQ(used, 2);
  auto clusters = proxy->admin_get("/clusters");
  ASSERT_TRUE(clusters) << clusters.error();
  auto json = nlohmann::json::parse(*clusters);
  EXPECT_EQ(json["clusters"][0]["endpoints"].size(), 2u) << "only the subset has pools";
}

TEST(ProxyPolicies, DeterministicSubsetsOfThreeProxiesCoverEveryBackendOnce) {
  auto backends = start_backends(3, "d");
  ASSERT_EQ(backends.size(), 3u);
  std::set<std::string> reached;
  for (int id = 0; id < 3; ++id) {
    // The id comes from the environment, as a StatefulSet ordinal would.
    setenv("SLUICE_TEST_ORDINAL", std::to_string(id).c_str(), 1);
    auto proxy = SluiceProcess::start(
        config("    subset: {size: 1, mode: deterministic, client_id: \"${SLUICE_TEST_ORDINAL}\", "
               "client_count: 3}\n",
               addresses(backends)));
    ASSERT_TRUE(proxy) << proxy.error();
    LoadRun run = run_load(proxy->address(), {"--concurrency", "4", "--calls", "100"});
    ASSERT_EQ(run.exit_code, 0);
    ASSERT_EQ(run.result["backends"].size(), 1u) << run.result["backends"].dump();
    reached.insert(run.result["backends"].begin().key());
  }
  unsetenv("SLUICE_TEST_ORDINAL");
  EXPECT_EQ(reached.size(), 3u) << "three clients of one round partition the backends";
}

TEST(ProxyPolicies, PickFirstSticksToTheFirstAndFailsOverInOrder) {
  auto backends = start_backends(3, "p");
  ASSERT_EQ(backends.size(), 3u);
  auto proxy = SluiceProcess::start(config("    policy: pick_first\n", addresses(backends)));
  ASSERT_TRUE(proxy) << proxy.error();
  auto stub = sluice::test::v1::TestService::NewStub(make_channel(proxy->address()));
  auto call = [&] {
    grpc::ClientContext ctx;
    CallResponse resp;
    auto status = stub->Unary(&ctx, CallRequest(), &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return resp.backend_id();
  };
  for (int i = 0; i < 20; ++i) EXPECT_EQ(call(), "p0");
  auto stopped = backends[0].stop();
  ASSERT_TRUE(stopped) << stopped.error();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(call(), "p1") << "fails over in order";
}

// The endpoints the proxy's cluster has now (its /clusters page), -1 if unreadable.
int endpoint_count(const SluiceProcess& proxy) {
  auto page = proxy.admin_get("/clusters");
  if (!page) return -1;
  auto json = nlohmann::json::parse(*page, nullptr, false);
  if (json.is_discarded()) return -1;
  return static_cast<int>(json["clusters"][0]["endpoints"].size());
}

TEST(ProxyPolicies, EveryPolicyFollowsMembershipChangesUnderLoadWithoutAFailedCall) {
  auto backends = start_backends(5, "m");
  ASSERT_EQ(backends.size(), 5u);
  char dir[] = "/tmp/sluice-policies-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string file = std::string(dir) + "/endpoints.yaml";
  // Members [from, to), weighted 1, 2, 3, ... so the weighted paths run too.
  auto write_members = [&](int from, int to) {
    std::ofstream out(file + ".tmp");
    for (int i = from; i < to; ++i) {
      out << "- {address: " << backends[i].address() << ", weight: " << (i + 1) << "}\n";
    }
    out.close();
    std::rename((file + ".tmp").c_str(), file.c_str());
  };
  for (const char* policy : {"round_robin", "weighted_round_robin", "least_request", "peak_ewma",
                             "{name: ring_hash, hash_header: x-user}", "random", "pick_first"}) {
    write_members(0, 3);
    std::string yaml =
        "workers: 2\nadmin: {address: 127.0.0.1:0}\n"
        "listeners:\n  - name: main\n    address: 127.0.0.1:0\n"
        "clusters:\n  - name: backends\n    policy: " +
        std::string(policy) + "\n    discovery: {type: file, path: " + file + "}\n";
    auto proxy = SluiceProcess::start(yaml);
    ASSERT_TRUE(proxy) << proxy.error();
    LoadRun run;
    std::thread load([&] {
      run = run_load(proxy->address(), {"--concurrency", "16", "--duration", "1500ms",
                                        "--connections", "2", "-H", "x-user: u1"});
    });
    // Out to five, in to two (the first ones leave: pick_first and ring_hash must move on),
    // out to four, each step applied before the next.
    for (auto [from, to] : {std::pair{0, 5}, std::pair{3, 5}, std::pair{1, 5}}) {
      write_members(from, to);
      EXPECT_TRUE(wait_until([&] { return endpoint_count(*proxy) == to - from; }, 5s))
          << policy << ": membership " << from << ".." << to << " never applied";
    }
    load.join();
    EXPECT_EQ(run.exit_code, 0) << policy;
    EXPECT_EQ(run.result.value("errors", -1), 0) << policy << ": " << run.result["status"].dump();
    EXPECT_GT(run.result.value("calls", 0), 100) << policy;
    EXPECT_EQ(proxy->flow_imbalance(), "") << policy;
  }
  std::remove(file.c_str());
  rmdir(dir);
}

TEST(ProxyPolicies, RotatingSubsetsMoveCallsWithoutFailures) {
  auto backends = start_backends(3, "o");
  ASSERT_EQ(backends.size(), 3u);
  auto proxy = SluiceProcess::start(
      config("    subset: {size: 1, rotate_every: 150ms}\n", addresses(backends)));
  ASSERT_TRUE(proxy) << proxy.error();
  LoadRun run = run_load(proxy->address(), {"--concurrency", "8", "--duration", "2s"});
  ASSERT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.result.value("errors", -1), 0) << run.result["status"].dump();
  // About 13 rotations (at least 5 on a busy machine), each to one of three backends at
  // random: more than one served. One endpoint at a time throughout.
  EXPECT_GE(proxy->metric("sluice_subset_rotation{cluster=\"backends\"}"), 5);
  EXPECT_GE(run.result["backends"].size(), 2u) << run.result["backends"].dump();
  EXPECT_EQ(endpoint_count(*proxy), 1);
}

}  // namespace
}  // namespace sluice::testing
