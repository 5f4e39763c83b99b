// Valid configs parse into the expected structs; syntax and file errors carry their position.
#include <gtest/gtest.h>

#include <fstream>

#include "config/config.h"
#include "config_test_util.h"

namespace sluice::config {
namespace {

using testing::parse_error;
using testing::parse_ok;

constexpr std::string_view kFull = R"(
workers: 2
drain_timeout: 30s
admin: {address: 127.0.0.1:9902, enabled: false}
http2: {stream_window: 2MiB, connection_window: 32MiB, max_concurrent_streams: 100, max_header_list_size: 8KiB}
listeners:
  - name: main
    address: 127.0.0.1:8080
  - name: v6
    address: "[::1]:0"
routes:
  - match: {service: sluice.test.v1.TestService, method: Unary, authority: foo}
    cluster: backends
    timeout: 2s
    max_timeout: 1m
  - match: {service: "*"}
    cluster: other
clusters:
  - name: backends
    policy: round_robin
    endpoints: [127.0.0.1:50051, "127.0.0.1:50052", {address: 127.0.0.1:50053}]
    max_connections_per_endpoint: 4
    max_pending_calls: 10
    connect_timeout: 500ms
    pending_timeout: 1m
  - name: other
    endpoints: [backend.local:443]
)";

TEST(ParseConfig, FullConfigFillsEveryField) {
  const Config config = parse_ok(kFull);
  EXPECT_EQ(config.source, "test.yaml");
  EXPECT_EQ(config.workers, 2u);
  EXPECT_EQ(config.drain_timeout, Millis(30000));
  EXPECT_FALSE(config.admin.enabled);
  EXPECT_EQ(config.admin.address, (HostPort{"127.0.0.1", 9902}));
  EXPECT_EQ(config.http2.stream_window, 2u << 20);
  EXPECT_EQ(config.http2.connection_window, 32u << 20);
  EXPECT_EQ(config.http2.max_concurrent_streams, 100u);
  EXPECT_EQ(config.http2.max_header_list_size, 8192u);

  ASSERT_EQ(config.listeners.size(), 2u);
  EXPECT_EQ(config.listeners[0].name, "main");
  EXPECT_EQ(config.listeners[0].address, (HostPort{"127.0.0.1", 8080}));
  EXPECT_EQ(config.listeners[1].address, (HostPort{"::1", 0}));

  ASSERT_EQ(config.routes.size(), 2u);
  EXPECT_EQ(config.routes[0].match.service, "sluice.test.v1.TestService");
  EXPECT_EQ(config.routes[0].match.method, "Unary");
  EXPECT_EQ(config.routes[0].match.authority, "foo");
  EXPECT_EQ(config.routes[0].cluster, "backends");
  EXPECT_EQ(config.routes[0].timeout, Millis(2000));
  EXPECT_EQ(config.routes[0].max_timeout, Millis(60000));
  EXPECT_EQ(config.routes[1].timeout, Millis(0)) << "no default deadline";
  EXPECT_EQ(config.routes[1].max_timeout, Millis(0));
  EXPECT_EQ(config.routes[1].match.service, "") << "\"*\" is stored as any service";
  EXPECT_EQ(config.routes[1].cluster, "other");

  ASSERT_EQ(config.clusters.size(), 2u);
  const Cluster& backends = config.clusters[0];
  EXPECT_EQ(backends.name, "backends");
  EXPECT_EQ(backends.policy.kind, core::PolicyKind::kRoundRobin);
  ASSERT_EQ(backends.endpoints.size(), 3u);
  EXPECT_EQ(backends.endpoints[0].address, (HostPort{"127.0.0.1", 50051}));
  EXPECT_EQ(backends.endpoints[1].address, (HostPort{"127.0.0.1", 50052}));
  EXPECT_EQ(backends.endpoints[2].address, (HostPort{"127.0.0.1", 50053}));
  EXPECT_EQ(backends.max_connections_per_endpoint, 4u);
  EXPECT_EQ(backends.max_pending_calls, 10u);
  EXPECT_EQ(backends.connect_timeout, Millis(500));
  EXPECT_EQ(backends.pending_timeout, Millis(60000));
  EXPECT_EQ(config.clusters[1].endpoints[0].address, (HostPort{"backend.local", 443}));

  EXPECT_EQ(config.find_cluster("other"), &config.clusters[1]);
  EXPECT_EQ(config.find_cluster("missing"), nullptr);
}

TEST(ParseConfig, MinimalConfigGetsDefaultsAndAnImplicitCatchAllRoute) {
  const Config config = parse_ok(R"(
listeners: [{name: main, address: 127.0.0.1:0}]
clusters: [{name: only, endpoints: [127.0.0.1:1]}]
)");
  const Config defaults;
  EXPECT_EQ(config.workers, defaults.workers);
  EXPECT_EQ(config.drain_timeout, defaults.drain_timeout);
  EXPECT_TRUE(config.admin.enabled);
  EXPECT_EQ(config.admin.address, (HostPort{"127.0.0.1", 9901}));
  EXPECT_EQ(config.http2.stream_window, defaults.http2.stream_window);
  EXPECT_EQ(config.http2.connection_window, defaults.http2.connection_window);
  const Cluster& cluster = config.clusters.at(0);
  EXPECT_EQ(cluster.policy.kind, core::PolicyKind::kRoundRobin);
  EXPECT_EQ(cluster.max_connections_per_endpoint, 8u);
  EXPECT_EQ(cluster.max_pending_calls, 4096u);
  EXPECT_EQ(cluster.connect_timeout, Millis(2000));
  EXPECT_EQ(cluster.pending_timeout, Millis(5000));
  ASSERT_EQ(config.routes.size(), 1u);
  EXPECT_EQ(config.routes[0].cluster, "only");
  EXPECT_EQ(config.routes[0].match.service, "");
  EXPECT_EQ(config.routes[0].match.method, "");
  EXPECT_EQ(config.routes[0].match.authority, "");
}

TEST(ParseConfig, PolicyOptionsWeightsAndSubset) {
  setenv("SLUICE_TEST_ORDINAL", "3", 1);
  const Config config = parse_ok(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
routes: [{cluster: lr}]
clusters:
  - name: lr
    policy: {name: least_request, choice_count: 3, active_request_bias: 0.5}
    endpoints: [{address: 127.0.0.1:1, weight: 2}, 127.0.0.1:2]
  - name: ewma
    policy: {name: peak_ewma, decay: 5s, default_rtt: 10ms}
    endpoints: [127.0.0.1:1]
  - name: ring
    policy: {name: ring_hash, hash_header: x-user, min_ring_size: 64, max_ring_size: 4096}
    subset: {size: 2, mode: deterministic, client_id: "${SLUICE_TEST_ORDINAL}", client_count: 8, rotate_every: 1h}
    endpoints: [127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3]
  - name: plain
    policy: pick_first
    subset: {size: 1}
    endpoints: [127.0.0.1:1]
)");
  const core::PolicyConfig& lr = config.clusters.at(0).policy;
  EXPECT_EQ(lr.kind, core::PolicyKind::kLeastRequest);
  EXPECT_EQ(lr.choice_count, 3u);
  EXPECT_DOUBLE_EQ(lr.active_request_bias, 0.5);
  EXPECT_EQ(config.clusters[0].endpoints.at(0).weight, 2u);
  EXPECT_EQ(config.clusters[0].endpoints.at(1).weight, 1u);
  const core::PolicyConfig& ewma = config.clusters.at(1).policy;
  EXPECT_EQ(ewma.kind, core::PolicyKind::kPeakEwma);
  EXPECT_EQ(ewma.decay, std::chrono::seconds(5));
  EXPECT_EQ(ewma.default_rtt, std::chrono::milliseconds(10));
  const Cluster& ring = config.clusters.at(2);
  EXPECT_EQ(ring.policy.kind, core::PolicyKind::kRingHash);
  EXPECT_EQ(ring.policy.hash_header, "x-user");
  EXPECT_EQ(ring.policy.min_ring_size, 64u);
  EXPECT_EQ(ring.policy.max_ring_size, 4096u);
  ASSERT_TRUE(ring.subset);
  EXPECT_EQ(ring.subset->size, 2u);
  EXPECT_EQ(ring.subset->mode, core::SubsetMode::kDeterministic);
  EXPECT_EQ(ring.subset->client_id, 3u);
  EXPECT_EQ(ring.subset->client_count, 8u);
  EXPECT_EQ(ring.subset->rotate_every, std::chrono::hours(1));
  EXPECT_FALSE(config.clusters[0].outlier_detection);
  const Cluster& plain = config.clusters.at(3);
  EXPECT_EQ(plain.policy.kind, core::PolicyKind::kPickFirst);
  ASSERT_TRUE(plain.subset);
  EXPECT_EQ(plain.subset->mode, core::SubsetMode::kRendezvous);
  EXPECT_FALSE(plain.subset->client_id);
}

TEST(ParseConfig, OutlierDetection) {
  const Config config = parse_ok(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    outlier_detection:
      consecutive_failures: 3
      interval: 2s
      base_ejection_time: 5s
      max_ejection_time: 1m
      max_ejection_percent: 40
      failure_codes: [UNAVAILABLE, RESOURCE_EXHAUSTED]
      success_rate: {stdev_factor: 1000, minimum_hosts: 3, request_volume: 20}
      failure_percentage: {threshold: 50}
    endpoints: [127.0.0.1:1]
)");
  const auto& o = config.clusters.at(0).outlier_detection;
  ASSERT_TRUE(o);
  EXPECT_EQ(o->consecutive_failures, 3u);
  EXPECT_EQ(o->interval, std::chrono::seconds(2));
  EXPECT_EQ(o->base_ejection_time, std::chrono::seconds(5));
  EXPECT_EQ(o->max_ejection_time, std::chrono::minutes(1));
  EXPECT_EQ(o->max_ejection_percent, 40u);
  EXPECT_EQ(o->failure_codes, (1u << 14) | (1u << 8));
  ASSERT_TRUE(o->success_rate);
  EXPECT_EQ(o->success_rate->stdev_factor, 1000u);
  EXPECT_EQ(o->success_rate->minimum_hosts, 3u);
  EXPECT_EQ(o->success_rate->request_volume, 20u);
  ASSERT_TRUE(o->failure_percentage);
  EXPECT_EQ(o->failure_percentage->threshold, 50u);
  EXPECT_EQ(o->failure_percentage->minimum_hosts, 5u) << "unset fields keep the defaults";
  const Config plain = parse_ok(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters: [{name: a, outlier_detection: {}, endpoints: [127.0.0.1:1]}]
)");
  EXPECT_EQ(*plain.clusters[0].outlier_detection, core::OutlierConfig{});
}

TEST(ParseConfig, HealthCheck) {
  const Config config = parse_ok(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    health_check:
      service: pkg.Svc
      interval: 2s
      timeout: 300ms
      unhealthy_threshold: 3
      healthy_threshold: 2
      initial_jitter: 0
      no_traffic_interval: 1m
      initial_state: healthy
      panic_threshold: 30%
    endpoints: [127.0.0.1:1]
)");
  const auto& h = config.clusters.at(0).health_check;
  ASSERT_TRUE(h);
  EXPECT_EQ(h->service, "pkg.Svc");
  EXPECT_EQ(h->interval, std::chrono::seconds(2));
  EXPECT_EQ(h->timeout, std::chrono::milliseconds(300));
  EXPECT_EQ(h->unhealthy_threshold, 3u);
  EXPECT_EQ(h->healthy_threshold, 2u);
  EXPECT_EQ(h->initial_jitter, std::chrono::milliseconds(0));
  EXPECT_EQ(h->no_traffic_interval, std::chrono::minutes(1));
  EXPECT_EQ(h->initial_state, core::Health::kHealthy);
  EXPECT_EQ(h->panic_threshold, 30u);
  const Config plain = parse_ok(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters: [{name: a, health_check: {panic_threshold: 0}, endpoints: [127.0.0.1:1]}]
)");
  core::HealthCheckConfig defaults;
  defaults.panic_threshold = 0;
  EXPECT_EQ(*plain.clusters[0].health_check, defaults);
  EXPECT_FALSE(parse_ok(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters: [{name: a, endpoints: [127.0.0.1:1]}]
)")
                   .clusters[0]
                   .health_check);
}

TEST(ParseConfig, EmptySectionsMeanDefaults) {
  const Config config = parse_ok(R"(
admin:
http2:
listeners: [{name: main, address: 127.0.0.1:0}]
clusters: [{name: only, endpoints: [127.0.0.1:1]}]
)");
  EXPECT_TRUE(config.admin.enabled);
  EXPECT_EQ(config.http2.max_concurrent_streams, 1000u);
}

TEST(ParseConfig, PlainIntegerDurationIsMilliseconds) {
  const Config config = parse_ok(R"(
drain_timeout: 1500
listeners: [{name: main, address: 127.0.0.1:0}]
clusters: [{name: only, endpoints: [127.0.0.1:1]}]
)");
  EXPECT_EQ(config.drain_timeout, Millis(1500));
}

TEST(ParseConfig, ExampleFileParses) {
  auto config = parse_config_file(SLUICE_EXAMPLE_CONFIG);
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->workers, 2u);
  ASSERT_EQ(config->listeners.size(), 1u);
  EXPECT_EQ(config->listeners[0].address, (HostPort{"127.0.0.1", 8080}));
  EXPECT_EQ(config->admin.address, (HostPort{"127.0.0.1", 9901}));
  ASSERT_EQ(config->routes.size(), 1u);
  EXPECT_EQ(config->routes[0].match.service, "sluice.test.v1.TestService");
  EXPECT_EQ(config->routes[0].cluster, "backends");
  const Cluster* backends = config->find_cluster("backends");
  ASSERT_NE(backends, nullptr);
  ASSERT_EQ(backends->endpoints.size(), 3u);
  for (uint16_t i = 0; i < 3; ++i) {
    EXPECT_EQ(backends->endpoints[i].address, (HostPort{"127.0.0.1", uint16_t(50051 + i)}));
  }
  EXPECT_EQ(backends->endpoints[2].weight, 2u);
  EXPECT_EQ(backends->policy.kind, core::PolicyKind::kPeakEwma);
  ASSERT_TRUE(backends->outlier_detection);
  EXPECT_EQ(backends->outlier_detection->consecutive_failures, 5u);
}

TEST(ParseConfig, MissingFileNamesTheFile) {
  auto config = parse_config_file("/nonexistent/sluice.yaml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().file, "/nonexistent/sluice.yaml");
  EXPECT_EQ(config.error().line, 0);
  EXPECT_NE(config.error().to_string().find("/nonexistent/sluice.yaml: cannot open"),
            std::string::npos)
      << config.error().to_string();
}

TEST(ParseConfig, DirectoryIsAnErrorNamingIt) {
  auto config = parse_config_file("/");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().file, "/");
}

TEST(ParseConfig, FileErrorsCarryTheFileName) {
  const std::string path = ::testing::TempDir() + "sluice_config_test_bad.yaml";
  {
    std::ofstream out(path);
    out << "listeners: []\nworkers: lots\n";
  }
  auto config = parse_config_file(path);
  std::remove(path.c_str());
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().to_string(),
            path + ":2:10: workers: expected a non-negative integer, got \"lots\"");
}

TEST(ParseConfig, SyntaxErrorReportsLineAndColumn) {
  const ConfigError error = parse_error(R"(
listeners:
  - name: main
    address: [127.0.0.1:8080
clusters: []
)");
  EXPECT_EQ(error.field, "");
  EXPECT_GE(error.line, 3);
  EXPECT_GT(error.column, 0);
  EXPECT_FALSE(error.message.empty());
}

TEST(ParseConfig, TabIndentationIsASyntaxErrorWithAPosition) {
  const ConfigError error = parse_error("listeners:\n\t- name: main\n");
  EXPECT_EQ(error.line, 2);
  EXPECT_GT(error.column, 0);
}

TEST(ParseConfig, EmptyDocumentNeedsAListener) {
  const ConfigError error = parse_error("");
  EXPECT_EQ(error.field, "listeners");
  EXPECT_EQ(error.line, 0);
}

TEST(ParseConfig, TopLevelMustBeAMapping) {
  const ConfigError error = parse_error("- a\n- b\n");
  EXPECT_EQ(error.line, 1);
  EXPECT_EQ(error.column, 1);
}

TEST(ParseConfig, SecondDocumentIsAnError) {
  const ConfigError error = parse_error(R"(
listeners: [{name: main, address: 127.0.0.1:0}]
clusters: [{name: only, endpoints: [127.0.0.1:1]}]
---
workers: 3
)");
  EXPECT_EQ(error.line, 3);  // the "---"
  EXPECT_NE(error.message.find("only one is allowed"), std::string::npos);
}

TEST(ParseConfig, StrayTopLevelCommaIsAnErrorNotAHang) {
  // yaml-cpp 0.7's LoadAll loops forever on this (found by fuzz_config).
  const ConfigError error = parse_error(",::1]::1]:80)0:80)0");
  EXPECT_EQ(error.line, 1);
}

TEST(ConfigErrorToString, OmitsUnknownParts) {
  EXPECT_EQ((ConfigError{"a.yaml", 3, 5, "clusters[0].name", "boom"}).to_string(),
            "a.yaml:3:5: clusters[0].name: boom");
  EXPECT_EQ((ConfigError{"a.yaml", 3, 0, "x", "boom"}).to_string(), "a.yaml:3: x: boom");
  EXPECT_EQ((ConfigError{"a.yaml", 0, 0, "x", "boom"}).to_string(), "a.yaml: x: boom");
  EXPECT_EQ((ConfigError{"a.yaml", 2, 1, "", "boom"}).to_string(), "a.yaml:2:1: boom");
  EXPECT_EQ((ConfigError{"", 0, 0, "", "boom"}).to_string(), "boom");
}

}  // namespace
}  // namespace sluice::config
