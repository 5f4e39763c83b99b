// The parts of a gRPC service config that shape a call's attempts (gRFC A6: retryPolicy,
// timeout, retryThrottling), and which method config applies to a call. Pure:
// the config layer parses the JSON into these; the proxy and the client library share them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sluice::core {

// gRPC status codes 0..16 as a bit set.
class StatusCodeSet {
 public:
  static constexpr int kCodes = 17;
  void add(int code) {
    if (code >= 0 && code < kCodes) bits_ |= 1u << code;
  }
  bool contains(int code) const { return code >= 0 && code < kCodes && (bits_ >> code) & 1u; }
  bool empty() const { return bits_ == 0; }
  bool operator==(const StatusCodeSet&) const = default;

 private:
  uint32_t bits_ = 0;
};

struct RetryPolicy {
  static constexpr int kMaxAttempts = 5;  // A6: larger values are treated as 5
  int max_attempts = 2;                   // attempts in all, the first one included
  std::chrono::nanoseconds initial_backoff{0};
  std::chrono::nanoseconds max_backoff{0};
  double backoff_multiplier = 1.0;
  StatusCodeSet retryable_status_codes;
  bool operator==(const RetryPolicy&) const = default;
};

// One entry of methodConfig[].name[]: a service and method, a whole service (method ""), or
// the default for every call (both "").
struct MethodName {
  std::string service;
  std::string method;
  bool operator==(const MethodName&) const = default;
};

struct MethodConfig {
  std::vector<MethodName> names;
  std::optional<std::chrono::nanoseconds> timeout;
  std::optional<RetryPolicy> retry;
  bool operator==(const MethodConfig&) const = default;
};

struct RetryThrottling {
  uint32_t max_tokens = 0;  // 1..1000
  double token_ratio = 0;   // > 0, three decimals count
  bool operator==(const RetryThrottling&) const = default;
};

struct ServiceConfig {
  std::vector<MethodConfig> method_configs;
  std::optional<RetryThrottling> retry_throttling;
  bool operator==(const ServiceConfig&) const = default;
};

// The first name that appears twice among the method configs ("service/method"), which makes a
// service config invalid in gRPC; nullopt when every name is unique.
std::optional<std::string> duplicate_method_name(const ServiceConfig& config);

// Which method config applies to a call, by gRPC's precedence: the one naming the exact
// service and method, else the one naming the whole service, else the default; nullptr when
// none does. Built once per config (it points into `config`, which must outlive it); a lookup
// allocates nothing.
class MethodConfigIndex {
 public:
  explicit MethodConfigIndex(const ServiceConfig& config);
  const MethodConfig* find(std::string_view service, std::string_view method) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Service {
    const MethodConfig* whole = nullptr;
    std::unordered_map<std::string, const MethodConfig*, Hash, std::equal_to<>> methods;
  };
  std::unordered_map<std::string, Service, Hash, std::equal_to<>> services_;
  const MethodConfig* default_ = nullptr;
};

}  // namespace sluice::core
