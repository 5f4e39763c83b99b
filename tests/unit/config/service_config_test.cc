// service_config: the gRPC service config JSON as users already write it, inside the YAML, or
// the same structure written as YAML; errors name the line inside the JSON.
#include <gtest/gtest.h>

#include <chrono>

#include "config/config.h"
#include "config/scalars.h"
#include "config_test_util.h"

namespace sluice::config {
namespace {

using namespace std::chrono_literals;
using testing::parse_error;
using testing::parse_ok;

TEST(ServiceConfig, JsonInABlockScalarAsGrpcTakesIt) {
  const Config config = parse_ok(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    service_config: |
      {
        "methodConfig": [{
          "name": [{"service": "pkg.Svc", "method": "Get"}, {"service": "pkg.Other"}],
          "timeout": "1.5s",
          "retryPolicy": {
            "maxAttempts": 4,
            "initialBackoff": "0.1s",
            "maxBackoff": "1s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE", 4]
          }
        }],
        "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1}
      }
    endpoints: [127.0.0.1:1]
)");
  const auto& sc = config.clusters.at(0).service_config;
  ASSERT_TRUE(sc);
  ASSERT_EQ(sc->method_configs.size(), 1u);
  const core::MethodConfig& mc = sc->method_configs[0];
  EXPECT_EQ(mc.names, (std::vector<core::MethodName>{{"pkg.Svc", "Get"}, {"pkg.Other", ""}}));
  EXPECT_EQ(mc.timeout, std::chrono::nanoseconds(1500ms));
  ASSERT_TRUE(mc.retry);
  EXPECT_EQ(mc.retry->max_attempts, 4);
  EXPECT_EQ(mc.retry->initial_backoff, 100ms);
  EXPECT_EQ(mc.retry->max_backoff, 1s);
  EXPECT_EQ(mc.retry->backoff_multiplier, 2.0);
  EXPECT_TRUE(mc.retry->retryable_status_codes.contains(14));
  EXPECT_TRUE(mc.retry->retryable_status_codes.contains(4));
  EXPECT_FALSE(mc.retry->retryable_status_codes.contains(13));
  ASSERT_TRUE(sc->retry_throttling);
  EXPECT_EQ(sc->retry_throttling->max_tokens, 10u);
  EXPECT_DOUBLE_EQ(sc->retry_throttling->token_ratio, 0.1);
}

TEST(ServiceConfig, TheSameStructureWrittenAsYaml) {
  const Config config = parse_ok(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
routes:
  - match: {service: pkg.Svc}
    cluster: a
    service_config:
      methodConfig:
        - name: [{}]
          retryPolicy:
            maxAttempts: 9
            initialBackoff: 0.03s
            maxBackoff: 0.5s
            backoffMultiplier: 1.5
            retryableStatusCodes: [UNAVAILABLE, RESOURCE_EXHAUSTED]
clusters: [{name: a, endpoints: [127.0.0.1:1]}]
)");
  const auto& sc = config.routes.at(0).service_config;
  ASSERT_TRUE(sc);
  const core::MethodConfig& mc = sc->method_configs.at(0);
  EXPECT_EQ(mc.names, (std::vector<core::MethodName>{{"", ""}})) << "the default for every call";
  ASSERT_TRUE(mc.retry);
  EXPECT_EQ(mc.retry->max_attempts, 5) << "A6: more than 5 counts as 5";
  EXPECT_EQ(mc.retry->initial_backoff, 30ms);
  EXPECT_EQ(mc.retry->backoff_multiplier, 1.5);
  EXPECT_TRUE(mc.retry->retryable_status_codes.contains(8));
  EXPECT_FALSE(config.clusters[0].service_config);
}

TEST(ServiceConfig, RetryBudgetDefaultsOnAndCanBeSet) {
  const Config config = parse_ok(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
routes: [{cluster: a}]
clusters:
  - {name: a, endpoints: [127.0.0.1:1]}
  - {name: b, retry_budget: {percent: 5, min_per_second: 0.5, window: 30s}, endpoints: [127.0.0.1:1]}
)");
  EXPECT_EQ(config.clusters[0].retry_budget, core::RetryBudget::Options{});
  EXPECT_EQ(config.clusters[0].retry_budget.percent, 20);
  EXPECT_EQ(config.clusters[0].retry_budget.min_per_second, 10);
  EXPECT_EQ(config.clusters[1].retry_budget.percent, 5);
  EXPECT_EQ(config.clusters[1].retry_budget.min_per_second, 0.5);
  EXPECT_EQ(config.clusters[1].retry_budget.window, 30s);
}

TEST(ServiceConfig, CircuitBreakersDefaultHighAndCanBeSet) {
  const Config config = parse_ok(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
routes: [{cluster: a}]
clusters:
  - {name: a, endpoints: [127.0.0.1:1]}
  - name: b
    circuit_breakers: {max_requests: 500, max_pending: 0, max_retries: 3}
    endpoints: [127.0.0.1:1]
)");
  EXPECT_EQ(config.clusters[0].circuit_breakers, Cluster::CircuitBreakers{});
  EXPECT_EQ(config.clusters[0].circuit_breakers.max_requests, 100000u);
  EXPECT_EQ(config.clusters[0].circuit_breakers.max_retries, 1024u);
  EXPECT_EQ(config.clusters[1].circuit_breakers,
            (Cluster::CircuitBreakers{.max_requests = 500, .max_pending = 0, .max_retries = 3}));
  const ConfigError e = parse_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters: [{name: a, circuit_breakers: {max_requests: 0}, endpoints: [127.0.0.1:1]}]
)");
  EXPECT_EQ(e.field, "clusters[0].circuit_breakers.max_requests");
  EXPECT_NE(e.message.find("between 1 and"), std::string::npos) << e.message;
}

// The error's line, for service configs in a block scalar starting on line 4.
int error_line(const std::string& json_body) {
  const std::string yaml =
      "listeners: [{name: main, address: 127.0.0.1:8080}]\n"
      "clusters:\n"
      "  - name: a\n"
      "    service_config: |\n" +
      json_body + "    endpoints: [127.0.0.1:1]\n";
  return parse_error(yaml).line;
}

TEST(ServiceConfig, ErrorsPointAtTheLineInsideTheJson) {
  // Line 5 is the JSON's first line.
  const ConfigError unknown = parse_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
clusters:
  - name: a
    service_config: |
      {"methodConfig": [{
        "name": [{"service": "pkg.Svc"}],
        "retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.1s", "maxBackoff": "1s",
                        "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"],
                        "perAttemptTimeout": "1s"}}]}
    endpoints: [127.0.0.1:1]
)");
  EXPECT_EQ(unknown.file, "test.yaml");
  EXPECT_EQ(unknown.line, 9);
  EXPECT_EQ(unknown.field,
            "clusters[0].service_config.methodConfig[0].retryPolicy.perAttemptTimeout");
  EXPECT_NE(unknown.message.find("unknown key \"perAttemptTimeout\""), std::string::npos)
      << unknown.message;
  EXPECT_EQ(error_line("      {\"methodConfig\": [{\n"
                       "        \"name\": [{}],\n"
                       "        \"timeout\": \"10\"}]}\n"),
            7)
      << "a duration without its s";
  EXPECT_EQ(error_line("      {\"methodConfig\": [\n"
                       "        {\"name\": [{}]},,\n"
                       "      ]}\n"),
            6)
      << "not JSON at all";
}

TEST(ServiceConfig, WhatIsWrongIsSaid) {
  auto message = [](const std::string& service_config) {
    return parse_error(
               "listeners: [{name: main, address: 127.0.0.1:8080}]\n"
               "clusters: [{name: a, endpoints: [127.0.0.1:1], service_config: " +
               service_config + "}]\n")
        .message;
  };
  EXPECT_NE(message(R"('{"loadBalancingConfig": [{"round_robin": {}}]}')")
                .find("loadBalancingConfig is not implemented by sluice"),
            std::string::npos);
  EXPECT_NE(message(R"('{"methodConfig": [{"name": [{}], "waitForReady": true}]}')")
                .find("waitForReady is not implemented"),
            std::string::npos);
  EXPECT_NE(message(R"('{"methodConfig": [{"timeout": "1s"}]}')").find("at least one name"),
            std::string::npos);
  EXPECT_NE(message(R"('{"methodConfig": [{"name": [{"method": "Get"}]}]}')")
                .find("a method needs its service"),
            std::string::npos);
  EXPECT_NE(message(R"('{"methodConfig": [{"name": [{}]}, {"name": [{}]}]}')")
                .find("in more than one method config"),
            std::string::npos);
  EXPECT_NE(message(R"('{"methodConfig": [{"name": [{}], "hedgingPolicy": {"maxAttempts": 2}}]}')")
                .find("hedgingPolicy is not implemented yet"),
            std::string::npos);
  EXPECT_NE(message(R"('{"methodConfig": [{"name": [{}],
      "retryPolicy": {"maxAttempts": 1, "initialBackoff": "1s", "maxBackoff": "1s",
                      "backoffMultiplier": 1, "retryableStatusCodes": [14]}}]}')")
                .find("between 2 and"),
            std::string::npos);
  EXPECT_NE(message(R"('{"methodConfig": [{"name": [{}],
      "retryPolicy": {"maxAttempts": 2, "initialBackoff": "1s", "maxBackoff": "1s",
                      "backoffMultiplier": 1}}]}')")
                .find("missing required field \"retryableStatusCodes\""),
            std::string::npos);
  EXPECT_NE(message(R"('{"methodConfig": [{"name": [{}],
      "retryPolicy": {"maxAttempts": 2, "initialBackoff": "1s", "maxBackoff": "1s",
                      "backoffMultiplier": 1, "retryableStatusCodes": ["UNAVAILBLE"]}}]}')")
                .find("unknown gRPC status \"UNAVAILBLE\""),
            std::string::npos);
  EXPECT_NE(message(R"('[1, 2]')").find("must be a JSON object"), std::string::npos);
}

TEST(ServiceConfig, RetryThrottlingBelongsToTheCluster) {
  const ConfigError e = parse_error(R"(
listeners: [{name: main, address: 127.0.0.1:8080}]
routes:
  - cluster: a
    service_config: {retryThrottling: {maxTokens: 10, tokenRatio: 0.1}}
clusters: [{name: a, endpoints: [127.0.0.1:1]}]
)");
  EXPECT_EQ(e.line, 4);
  EXPECT_NE(e.message.find("retryThrottling"), std::string::npos) << e.message;
}

TEST(ProtoDuration, SecondsWithUpToNineDecimals) {
  EXPECT_EQ(*parse_proto_duration("0.1s"), 100ms);
  EXPECT_EQ(*parse_proto_duration("10s"), 10s);
  EXPECT_EQ(*parse_proto_duration("1.000000001s"), 1s + 1ns);
  for (const char* bad : {"", "s", "1", "1.s", ".5s", "-1s", "1.0000000001s", "0s", "0.000s",
                          "1e3s", "1 s", "99999999999s"}) {
    EXPECT_FALSE(parse_proto_duration(bad)) << bad;
  }
}

}  // namespace
}  // namespace sluice::config
