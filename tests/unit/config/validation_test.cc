// Every validation rule: the error names the exact line, column and field of the offending node.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config_test_util.h"

namespace sluice::config {
namespace {

using testing::parse_error;

// Asserts the position, the field and a part of the message of the error `yaml` produces.
void expect_error(std::string_view yaml, int line, int column, std::string_view field,
                  std::string_view message_part) {
  const ConfigError error = parse_error(yaml);
  EXPECT_EQ(error.line, line) << error.to_string();
  EXPECT_EQ(error.column, column) << error.to_string();
  EXPECT_EQ(error.field, field) << error.to_string();
  EXPECT_NE(error.message.find(message_part), std::string::npos)
      << "\"" << message_part << "\" not in: " << error.to_string();
}

// The lines after which a test can add its own: a listener and a cluster, three lines.
constexpr std::string_view kValidBase = R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters: [{name: backends, endpoints: [127.0.0.1:50051]}]
)";

std::string base_plus(std::string_view more) { return std::string(kValidBase) + std::string(more); }

TEST(Validation, BaseIsValid) { testing::parse_ok(kValidBase); }

TEST(Validation, UnknownTopLevelKeySuggestsTheCloseOne) {
  expect_error(base_plus("wrokers: 2\n"), 3, 1, "wrokers",
               "unknown key \"wrokers\" (did you mean \"workers\"?)");
}

TEST(Validation, UnknownKeyListsTheAllowedOnes) {
  expect_error(base_plus("tracing: {}\n"), 3, 1, "tracing", "expected one of: workers");
}

TEST(Validation, UnknownNestedKeyNamesItsPath) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: backends
    endpoints: [127.0.0.1:50051]
    polcy: round_robin
)",
               5, 5, "clusters[0].polcy", "did you mean \"policy\"");
}

TEST(Validation, DuplicateKeyIsAnError) {
  expect_error(base_plus("workers: 1\nworkers: 2\n"), 4, 1, "workers", "duplicate key");
}

TEST(Validation, NonScalarKeyIsAnError) {
  expect_error(base_plus("? [a, b]\n: 1\n"), 3, 3, "", "keys must be plain strings");
}

TEST(Validation, AtLeastOneListener) {
  expect_error(R"(
listeners: []
clusters: [{name: backends, endpoints: [127.0.0.1:50051]}]
)",
               1, 12, "listeners", "at least one listener");
}

TEST(Validation, MissingListenersHasNoPosition) {
  expect_error("clusters: [{name: backends, endpoints: [127.0.0.1:50051]}]\n", 0, 0, "listeners",
               "at least one listener");
}

TEST(Validation, ListenerNamesAreUnique) {
  expect_error(R"(
listeners:
  - name: main
    address: 127.0.0.1:8080
  - name: main
    address: 127.0.0.1:8081
clusters: [{name: backends, endpoints: [127.0.0.1:50051]}]
)",
               4, 11, "listeners[1].name", "duplicate listener name \"main\"");
}

TEST(Validation, ListenerNeedsAName) {
  expect_error(R"(
listeners:
  - address: 127.0.0.1:8080
clusters: [{name: backends, endpoints: [127.0.0.1:50051]}]
)",
               2, 5, "listeners[0].name", "missing required field \"name\"");
}

TEST(Validation, ListenerNameMustNotBeEmpty) {
  expect_error(R"(
listeners:
  - name: ""
    address: 127.0.0.1:8080
clusters: [{name: backends, endpoints: [127.0.0.1:50051]}]
)",
               2, 11, "listeners[0].name", "must not be empty");
}

TEST(Validation, ListenerAddressMustParse) {
  expect_error(R"(
listeners:
  - name: main
    address: 127.0.0.1
clusters: [{name: backends, endpoints: [127.0.0.1:50051]}]
)",
               3, 14, "listeners[0].address", "missing port");
}

TEST(Validation, ListenerMayUsePortZero) {
  testing::parse_ok(R"(
listeners: [{name: a, address: 127.0.0.1:0}, {name: b, address: 127.0.0.1:0}]
clusters: [{name: backends, endpoints: [127.0.0.1:50051]}]
admin: {address: 127.0.0.1:0}
)");
}

TEST(Validation, ListenerAddressesAreUnique) {
  expect_error(R"(
listeners:
  - name: a
    address: 127.0.0.1:8080
  - name: b
    address: 127.0.0.1:8080
clusters: [{name: backends, endpoints: [127.0.0.1:50051]}]
)",
               5, 14, "listeners[1].address", "already used by listeners[0]");
}

TEST(Validation, AdminAddressMustNotCollideWithAListener) {
  expect_error(base_plus("admin:\n  address: 127.0.0.1:8080\n"), 4, 12, "admin.address",
               "already used by listeners[0]");
}

TEST(Validation, DisabledAdminMayShareTheAddress) {
  testing::parse_ok(base_plus("admin: {enabled: false, address: 127.0.0.1:8080}\n"));
}

TEST(Validation, AdminAddressMustParse) {
  expect_error(base_plus("admin: {address: 127.0.0.1:99999}\n"), 3, 18, "admin.address",
               "invalid port");
}

TEST(Validation, AdminEnabledMustBeABoolean) {
  expect_error(base_plus("admin: {enabled: maybe}\n"), 3, 18, "admin.enabled",
               "expected true or false");
}

TEST(Validation, RoutesMustReferenceExistingClusters) {
  expect_error(base_plus("routes:\n  - match: {service: a.B}\n    cluster: backend\n"), 5, 14,
               "routes[0].cluster", "unknown cluster \"backend\" (defined: backends)");
}

TEST(Validation, RouteNeedsACluster) {
  expect_error(base_plus("routes:\n  - match: {service: a.B}\n"), 4, 5, "routes[0].cluster",
               "missing required field");
}

TEST(Validation, MethodWithoutServiceIsAnError) {
  expect_error(base_plus("routes:\n  - match: {method: Unary}\n    cluster: backends\n"), 4, 21,
               "routes[0].match.method", "a method needs a service");
}

TEST(Validation, MethodWithAnyServiceIsAnError) {
  expect_error(
      base_plus("routes:\n  - match: {service: \"*\", method: Unary}\n    cluster: backends\n"), 4,
      35, "routes[0].match.method", "a method needs a service");
}

TEST(Validation, ServiceNameMustNotHoldTheMethod) {
  expect_error(base_plus("routes:\n  - match: {service: a.B/Unary}\n    cluster: backends\n"), 4,
               22, "routes[0].match.service", "invalid service name");
}

TEST(Validation, NoRoutesWithSeveralClustersIsAnError) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - {name: a, endpoints: [127.0.0.1:1]}
  - {name: b, endpoints: [127.0.0.1:2]}
)",
               0, 0, "routes", "routes are required when there is more than one cluster");
}

TEST(Validation, AtLeastOneCluster) {
  expect_error("listeners: [{name: main, address: 127.0.0.1:8080}]\nclusters: []\n", 2, 11,
               "clusters", "at least one cluster");
}

TEST(Validation, ClusterNamesAreUnique) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    endpoints: [127.0.0.1:1]
  - name: a
    endpoints: [127.0.0.1:2]
routes: [{cluster: a}]
)",
               5, 11, "clusters[1].name", "duplicate cluster name \"a\"");
}

TEST(Validation, ClusterNameMustNotBeEmpty) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: ''
    endpoints: [127.0.0.1:1]
)",
               3, 11, "clusters[0].name", "must not be empty");
}

TEST(Validation, ClusterNeedsAName) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - endpoints: [127.0.0.1:1]
)",
               3, 5, "clusters[0].name", "missing required field");
}

TEST(Validation, PolicyMustBeKnown) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    policy: fastest
    endpoints: [127.0.0.1:1]
)",
               4, 13, "clusters[0].policy",
               "unknown policy \"fastest\" (known: round_robin, weighted_round_robin, "
               "least_request, peak_ewma, ring_hash, random, pick_first)");
}

TEST(Validation, PolicyOptionMustBelongToThePolicy) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    policy: {name: peak_ewma, choice_count: 3}
    endpoints: [127.0.0.1:1]
)",
               4, 45, "clusters[0].policy.choice_count",
               "applies to policy least_request, not peak_ewma");
}

TEST(Validation, RingHashNeedsAHashHeader) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    policy: ring_hash
    endpoints: [127.0.0.1:1]
)",
               4, 13, "clusters[0].policy",
               "policy ring_hash needs hash_header: write policy: {name: ring_hash, "
               "hash_header: x-user-id}");
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    policy: {name: ring_hash, hash_header: X-User}
    endpoints: [127.0.0.1:1]
)",
               4, 44, "clusters[0].policy.hash_header",
               "invalid header name \"X-User\" (lower case letters, digits, -, _ and .; not a "
               "-bin header)");
}

TEST(Validation, PolicyOptionsAreRangeChecked) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    policy: {name: least_request, active_request_bias: -1}
    endpoints: [127.0.0.1:1]
)",
               4, 56, "clusters[0].policy.active_request_bias",
               "expected a decimal number such as 1 or 0.5, got \"-1\"");
}

TEST(Validation, EndpointWeightIsRangeChecked) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    endpoints: [{address: 127.0.0.1:1, weight: 0}]
)",
               4, 48, "clusters[0].endpoints[0].weight", "must be between 1 and 1000000, got 0");
}

TEST(Validation, DeterministicSubsetNeedsClientIdAndCount) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    subset: {size: 2, mode: deterministic}
    endpoints: [127.0.0.1:1]
)",
               4, 13, "clusters[0].subset",
               "mode deterministic needs client_id and client_count (e.g. client_id: "
               "${POD_ORDINAL})");
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    subset: {size: 2, mode: deterministic, client_id: 4, client_count: 4}
    endpoints: [127.0.0.1:1]
)",
               4, 55, "clusters[0].subset.client_id", "must be below client_count (4)");
}

TEST(Validation, OutlierFailureCodesAreGrpcStatusNames) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    outlier_detection: {failure_codes: [UNAVAILABLE, 503]}
    endpoints: [127.0.0.1:1]
)",
               4, 54, "clusters[0].outlier_detection.failure_codes[1]",
               "unknown gRPC status \"503\" (expected a name such as UNAVAILABLE, INTERNAL, "
               "DEADLINE_EXCEEDED)");
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    outlier_detection: {max_ejection_percent: 101}
    endpoints: [127.0.0.1:1]
)",
               4, 47, "clusters[0].outlier_detection.max_ejection_percent",
               "must be between 0 and 100, got 101");
}

TEST(Validation, HealthCheckFieldsNameWhatIsWrong) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    health_check: {initial_state: sick}
    endpoints: [127.0.0.1:1]
)",
               4, 35, "clusters[0].health_check.initial_state",
               "must be unknown or healthy, got \"sick\"");
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    health_check: {panic_threshold: 120%}
    endpoints: [127.0.0.1:1]
)",
               4, 37, "clusters[0].health_check.panic_threshold",
               "must be a percentage from 0 to 100 (50 or 50%), got \"120%\"");
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    health_check: {interval: 0s}
    endpoints: [127.0.0.1:1]
)",
               4, 30, "clusters[0].health_check.interval", "duration must be positive, got \"0s\"");
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    health_check: {unhealthy_threshold: 0}
    endpoints: [127.0.0.1:1]
)",
               4, 41, "clusters[0].health_check.unhealthy_threshold",
               "must be between 1 and 1000, got 0");
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    health_check: {intervall: 1s}
    endpoints: [127.0.0.1:1]
)",
               4, 20, "clusters[0].health_check.intervall", "interval");
}

TEST(Validation, SubsetClientIdFromAnUnsetVariableIsAnError) {
  unsetenv("SLUICE_TEST_NO_SUCH_VAR");
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    subset: {size: 2, client_id: "${SLUICE_TEST_NO_SUCH_VAR}"}
    endpoints: [127.0.0.1:1]
)",
               4, 34, "clusters[0].subset.client_id",
               "environment variable \"SLUICE_TEST_NO_SUCH_VAR\" is not set");
}

TEST(Validation, ClusterNeedsAnEndpoint) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    endpoints: []
)",
               4, 16, "clusters[0].endpoints", "needs at least one endpoint");
}

TEST(Validation, ClusterWithoutEndpointsKeyNeedsAnEndpoint) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
)",
               3, 5, "clusters[0].endpoints", "needs at least one endpoint");
}

TEST(Validation, DuplicateEndpointsAcrossSpellings) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    endpoints: [127.0.0.1:1, 127.0.0.1:2, {address: 127.0.0.1:1}]
)",
               4, 43, "clusters[0].endpoints[2]", "duplicate endpoint 127.0.0.1:1");
}

TEST(Validation, EndpointMustParse) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    endpoints:
      - 127.0.0.1:1
      - ::1:2
)",
               6, 9, "clusters[0].endpoints[1]", "brackets");
}

TEST(Validation, EndpointMappingAddressMustParse) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    endpoints:
      - address: bad_port:x
)",
               5, 18, "clusters[0].endpoints[0].address", "invalid port");
}

TEST(Validation, EndpointMappingRejectsUnknownKeys) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    endpoints:
      - {address: 127.0.0.1:1, wieght: 3}
)",
               5, 32, "clusters[0].endpoints[0].wieght",
               "unknown key \"wieght\" (did you mean \"weight\"?)");
}

TEST(Validation, EndpointPortZeroIsAnError) {
  expect_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters: [{name: a, endpoints: [127.0.0.1:0]}]
)",
               2, 34, "clusters[0].endpoints[0]", "port 0 is only allowed");
}

TEST(Validation, WorkersAtMost256) {
  testing::parse_ok(base_plus("workers: 256\n"));
  expect_error(base_plus("workers: 257\n"), 3, 10, "workers", "between 0 and 256");
}

TEST(Validation, WorkersMustBeANumber) {
  expect_error(base_plus("workers: -1\n"), 3, 10, "workers", "non-negative integer");
  expect_error(base_plus("workers: [1]\n"), 3, 10, "workers", "expected a value, got a list");
  expect_error(base_plus("workers:\n"), 3, 1, "workers", "expected a value, got nothing");
}

TEST(Validation, StreamWindowBounds) {
  testing::parse_ok(base_plus("http2: {stream_window: 65535}\n"));
  testing::parse_ok(base_plus("http2: {stream_window: 2147483647}\n"));
  expect_error(base_plus("http2: {stream_window: 65534}\n"), 3, 24, "http2.stream_window",
               "between 65535 and 2147483647");
  expect_error(base_plus("http2: {stream_window: 2048MiB}\n"), 3, 24, "http2.stream_window",
               "between 65535 and 2147483647");
}

TEST(Validation, ConnectionWindowBounds) {
  expect_error(base_plus("http2:\n  connection_window: 1KiB\n"), 4, 22, "http2.connection_window",
               "between 65535");
  expect_error(base_plus("http2:\n  connection_window: 16MB\n"), 4, 22, "http2.connection_window",
               "expected a size");
}

TEST(Validation, MaxConcurrentStreamsAtLeastOne) {
  expect_error(base_plus("http2: {max_concurrent_streams: 0}\n"), 3, 33,
               "http2.max_concurrent_streams", "between 1 and");
}

TEST(Validation, MaxHeaderListSizeAtLeast1KiB) {
  expect_error(base_plus("http2: {max_header_list_size: 100}\n"), 3, 31,
               "http2.max_header_list_size", "between 1024 and");
}

TEST(Validation, MaxConnectionsPerEndpointBounds) {
  const std::string prefix =
      "listeners: [{name: main, address: 127.0.0.1:8080}]\nclusters:\n"
      "  - name: a\n    endpoints: [127.0.0.1:1]\n";
  testing::parse_ok(prefix + "    max_connections_per_endpoint: 1024\n");
  expect_error(prefix + "    max_connections_per_endpoint: 0\n", 5, 35,
               "clusters[0].max_connections_per_endpoint", "between 1 and 1024");
  expect_error(prefix + "    max_connections_per_endpoint: 1025\n", 5, 35,
               "clusters[0].max_connections_per_endpoint", "between 1 and 1024");
}

TEST(Validation, DurationsArePositive) {
  expect_error(base_plus("drain_timeout: 0s\n"), 3, 16, "drain_timeout", "must be positive");
  const std::string prefix =
      "listeners: [{name: main, address: 127.0.0.1:8080}]\nclusters:\n"
      "  - name: a\n    endpoints: [127.0.0.1:1]\n";
  expect_error(prefix + "    connect_timeout: 0\n", 5, 22, "clusters[0].connect_timeout",
               "must be positive");
  expect_error(prefix + "    pending_timeout: 5 s\n", 5, 22, "clusters[0].pending_timeout",
               "expected a duration");
}

TEST(Validation, SectionTypesAreChecked) {
  expect_error("listeners: {name: main}\n", 1, 12, "listeners", "expected a list, got a mapping");
  expect_error(base_plus("http2: [1]\n"), 3, 8, "http2", "expected a mapping");
  expect_error(R"(
listeners: [main]
clusters: [{name: a, endpoints: [127.0.0.1:1]}]
)",
               1, 13, "listeners[0]", "expected a mapping");
}

TEST(Validation, ErrorStringHasFileLineColumnFieldMessage) {
  const ConfigError error = parse_error(base_plus("workers: 300\n"));
  EXPECT_EQ(error.to_string(), "test.yaml:3:10: workers: must be between 0 and 256, got 300");
}

// A cluster whose endpoints come from `discovery` (one flow mapping on line 2).
std::string with_discovery(std::string_view discovery) {
  return "\nlisteners: [{name: main, address: 127.0.0.1:8080}]\n"
         "clusters: [{name: backends, discovery: " +
         std::string(discovery) + "}]\n";
}

TEST(Validation, DiscoveryTypesParseWithTheirFields) {
  const Config dns = testing::parse_ok(with_discovery(
      "{type: dns, name: 'backends.svc:50051', server: '127.0.0.1:5353', min_refresh: 500ms, "
      "max_refresh: 10s}"));
  const Discovery& d = *dns.clusters[0].discovery;
  EXPECT_EQ(d.name.to_string(), "backends.svc:50051");
  EXPECT_EQ(d.server->to_string(), "127.0.0.1:5353");
  EXPECT_EQ(d.min_refresh, Millis(500));
  EXPECT_EQ(d.max_refresh, Millis(10000));
  const Config etcd = testing::parse_ok(with_discovery(
      "{type: etcd, endpoints: ['127.0.0.1:2379', '127.0.0.2:2379'], prefix: /svc/a/}"));
  ASSERT_EQ(etcd.clusters[0].discovery->etcd_endpoints.size(), 2u);
  EXPECT_EQ(etcd.clusters[0].discovery->prefix, "/svc/a/");
}

TEST(Validation, UnknownDiscoveryTypeListsTheKnownOnes) {
  expect_error(with_discovery("{type: consul}"), 2, 47, "clusters[0].discovery.type",
               "(known: file, dns, etcd)");
}

TEST(Validation, DiscoveryNeedsTheFieldsOfItsType) {
  expect_error(with_discovery("{type: dns}"), 2, 40, "clusters[0].discovery",
               "discovery type \"dns\" needs \"name\"");
  expect_error(with_discovery("{type: etcd, endpoints: ['127.0.0.1:2379']}"), 2, 40,
               "clusters[0].discovery", "needs \"prefix\"");
  expect_error(with_discovery("{type: file}"), 2, 40, "clusters[0].discovery", "needs \"path\"");
}

TEST(Validation, DiscoveryRejectsAnotherTypesField) {
  expect_error(with_discovery("{type: file, path: a.yaml, server: '127.0.0.1:53'}"), 2, 75,
               "clusters[0].discovery.server", "does not apply to discovery type \"file\"");
}

TEST(Validation, DnsRefreshBoundsMustBeOrdered) {
  expect_error(with_discovery("{type: dns, name: 'a:1', min_refresh: 5s, max_refresh: 1s}"), 2, 95,
               "clusters[0].discovery.max_refresh", "must not be less than min_refresh");
}

}  // namespace
}  // namespace sluice::config
