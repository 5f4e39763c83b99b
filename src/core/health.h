// Active health checking's pure parts: the options, one endpoint's threshold state machine,
// when the next check is due, and which endpoints a picker may use (health, ejection and the
// panic threshold). The checks themselves (grpc.health.v1 over HTTP/2) live in src/health.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/random.h"

namespace sluice::core {

enum class Health : uint8_t { kUnknown, kHealthy, kUnhealthy };
std::string_view health_name(Health health);  // "unknown", "healthy", "unhealthy"

struct HealthCheckConfig {
  std::string service;  // the grpc.health.v1 service asked about ("" = the server as a whole)
  std::chrono::milliseconds interval{5000};
  std::chrono::milliseconds timeout{1000};  // a check (or a connect) not answered in time fails
  uint32_t unhealthy_threshold = 2;         // failed checks in a row that make it unhealthy
  uint32_t healthy_threshold = 1;           // passed checks in a row that make it healthy again
  // The first checks of the endpoints known at start wait a random share of this, so many
  // proxies started together do not probe in lockstep.
  std::chrono::milliseconds initial_jitter{1000};
  // Between checks while the cluster carries no calls.
  std::chrono::milliseconds no_traffic_interval{60000};
  // Before its first check an endpoint is unknown (no calls while others are healthy) or healthy.
  Health initial_state = Health::kUnknown;
  // Below this percentage of healthy endpoints, balance over all of them (0 = never).
  uint32_t panic_threshold = 50;
  bool operator==(const HealthCheckConfig&) const = default;
};

// One endpoint's health from its check results. The first result decides an unknown endpoint;
// after that it takes `unhealthy_threshold` failures (or `healthy_threshold` passes) in a row
// to change.
class HealthCounter {
 public:
  explicit HealthCounter(Health initial = Health::kUnknown) : state_(initial) {}
  // One check's result; true when the state changed.
  bool record(bool passed, const HealthCheckConfig& config);
  Health state() const { return state_; }

 private:
  Health state_;
  uint32_t run_ = 0;  // results in a row against the current state
};

// The wait before an endpoint's next check: its first one (`first`) waits a uniform share of
// initial_jitter if `jitter_first`, else none; later ones wait interval, or no_traffic_interval
// while the cluster is idle.
std::chrono::milliseconds next_check_delay(const HealthCheckConfig& config, bool first,
                                           bool jitter_first, bool cluster_busy, Random& random);

// Which endpoints a cluster's picker may use, by endpoint index.
struct Eligibility {
  std::vector<bool> eligible;
  bool panic = false;  // health was ignored: too few endpoints are healthy
};

// `healthy` is empty when the cluster has no health checks (every endpoint counts as healthy);
// an unknown endpoint is not healthy. With fewer than panic_percent % healthy, health is
// ignored (better load on sick endpoints than all of it on a few); with panic_percent 0 and
// none healthy, none is eligible. Then outlier ejections (`ejected`, may be empty) take
// endpoints out, unless that would leave none.
Eligibility choose_eligible(const std::vector<bool>& healthy, const std::vector<bool>& ejected,
                            uint32_t panic_percent);

}  // namespace sluice::core
