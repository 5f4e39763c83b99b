#include "core/health.h"

namespace sluice::core {

std::string_view health_name(Health health) {
  switch (health) {
    case Health::kHealthy:
      return "healthy";
    case Health::kUnhealthy:
      return "unhealthy";
    case Health::kUnknown:
      break;
  }
  return "unknown";
}

bool HealthCounter::record(bool passed, const HealthCheckConfig& config) {
  if (state_ == Health::kUnknown) {
    state_ = passed ? Health::kHealthy : Health::kUnhealthy;
    run_ = 0;
    return true;
  }
  const bool agrees = passed == (state_ == Health::kHealthy);
  if (agrees) {
    run_ = 0;
    return false;
  }
  const uint32_t threshold = passed ? config.healthy_threshold : config.unhealthy_threshold;
  if (++run_ < threshold) return false;
  state_ = passed ? Health::kHealthy : Health::kUnhealthy;
  run_ = 0;
  return true;
}

std::chrono::milliseconds next_check_delay(const HealthCheckConfig& config, bool first,
                                           bool jitter_first, bool cluster_busy, Random& random) {
  using std::chrono::milliseconds;
  if (first) {
    if (!jitter_first || config.initial_jitter.count() <= 0) return milliseconds(0);
    return milliseconds(
        static_cast<int64_t>(random.below(static_cast<uint64_t>(config.initial_jitter.count()))));
  }
  return cluster_busy ? config.interval : config.no_traffic_interval;
}

Eligibility choose_eligible(const std::vector<bool>& healthy, const std::vector<bool>& ejected,
                            uint32_t panic_percent) {
  const size_t n = healthy.empty() ? ejected.size() : healthy.size();
  Eligibility out;
  out.eligible.assign(n, true);
  if (!healthy.empty()) {
    size_t healthy_count = 0;
    for (bool h : healthy) healthy_count += h ? 1 : 0;
    // healthy / n < panic / 100, in integers.
    out.panic = healthy_count * 100 < static_cast<uint64_t>(panic_percent) * n;
    if (!out.panic) out.eligible = healthy;
  }
  if (ejected.size() != n) return out;
  std::vector<bool> kept = out.eligible;
  bool any = false;
  for (size_t i = 0; i < n; ++i) {
    kept[i] = kept[i] && !ejected[i];
    any = any || kept[i];
  }
  if (any) out.eligible = std::move(kept);
  return out;
}

}  // namespace sluice::core
