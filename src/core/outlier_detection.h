// Outlier detection (gRPC A50, Envoy semantics and names): endpoints whose calls fail are
// ejected, taken out of balancing for base_ejection_time x (times ejected), then let back.
// A pure kernel: the caller feeds call counts and "consecutive failures" events and passes the
// time in; it says which endpoints are ejected. One instance per cluster, on one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sluice::core {

// Outside OutlierConfig: a nested struct's default member initializers are not usable while the
// enclosing class is incomplete, so clang rejects std::optional<Nested>::emplace() there.
struct OutlierSuccessRate {
  uint32_t stdev_factor = 1900;   // thousandths: eject below mean - 1.9 x stdev
  uint32_t minimum_hosts = 5;     // endpoints with enough calls needed to judge
  uint32_t request_volume = 100;  // calls in the interval for an endpoint to count
  bool operator==(const OutlierSuccessRate&) const = default;
};

struct OutlierFailurePercentage {
  uint32_t threshold = 85;  // eject above this percentage of failed calls
  uint32_t minimum_hosts = 5;
  uint32_t request_volume = 50;
  bool operator==(const OutlierFailurePercentage&) const = default;
};

struct OutlierConfig {
  // Failures in a row that eject at once; 0 = off.
  uint32_t consecutive_failures = 5;
  // How often success rate and failure percentage are evaluated and ejections expire.
  std::chrono::nanoseconds interval = std::chrono::seconds(10);
  std::chrono::nanoseconds base_ejection_time = std::chrono::seconds(30);
  std::chrono::nanoseconds max_ejection_time = std::chrono::seconds(300);
  // At most this share of the endpoints ejected at once, yet always at least one may be.
  uint32_t max_ejection_percent = 10;
  using SuccessRate = OutlierSuccessRate;
  using FailurePercentage = OutlierFailurePercentage;
  std::optional<SuccessRate> success_rate;
  std::optional<FailurePercentage> failure_percentage;
  // gRPC status codes that count as failures, one bit per code: UNKNOWN, DEADLINE_EXCEEDED,
  // INTERNAL, UNAVAILABLE (2, 4, 13, 14) by default.
  uint32_t failure_codes = (1u << 2) | (1u << 4) | (1u << 13) | (1u << 14);
  bool operator==(const OutlierConfig&) const = default;

  bool is_failure(int grpc_status) const {
    return grpc_status >= 0 && grpc_status < 32 && ((failure_codes >> grpc_status) & 1u) != 0;
  }
};

enum class EjectionReason { kNone, kConsecutiveFailures, kSuccessRate, kFailurePercentage };
std::string_view ejection_reason_name(EjectionReason reason);

class OutlierDetector {
 public:
  using Nanos = std::chrono::nanoseconds;

  struct EndpointState {
    std::string address;
    uint64_t successes = 0;  // this interval
    uint64_t failures = 0;
    bool ejected = false;
    Nanos ejected_at{0};
    uint32_t multiplier = 0;  // grows per ejection, shrinks per healthy interval (A50)
    uint64_t ejections = 0;   // ever
    EjectionReason reason = EjectionReason::kNone;
  };

  explicit OutlierDetector(OutlierConfig config) : config_(config) {}

  // Membership: endpoints by address, in the caller's order; those that stay keep their state.
  void set_endpoints(const std::vector<std::string>& addresses);
  // Counts of calls finished on endpoint `index` since the last call (any number of batches).
  void add_counts(size_t index, uint64_t successes, uint64_t failures);
  // Some worker saw consecutive_failures in a row on `index`: ejects it now unless the
  // ejection limit says no (or it is ejected already). True when it was ejected.
  bool on_consecutive_failures(size_t index, Nanos now);
  // Once per interval: lets back those whose time is up, then ejects by success rate and
  // failure percentage, then clears the interval's counts. True when the ejected set changed.
  bool evaluate(Nanos now);

  const std::vector<EndpointState>& endpoints() const { return endpoints_; }
  bool ejected(size_t index) const { return endpoints_[index].ejected; }
  // When an ejected endpoint comes back (its ejection time, capped).
  Nanos ejected_until(size_t index) const;
  size_t ejected_count() const;
  const OutlierConfig& config() const { return config_; }

 private:
  bool may_eject_another() const;
  bool eject(size_t index, Nanos now, EjectionReason reason);
  void by_success_rate(Nanos now);
  void by_failure_percentage(Nanos now);

  OutlierConfig config_;
  std::vector<EndpointState> endpoints_;
};

}  // namespace sluice::core
