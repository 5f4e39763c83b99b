#include "core/outlier_detection.h"

#include <algorithm>
#include <cmath>

namespace sluice::core {

std::string_view ejection_reason_name(EjectionReason reason) {
  switch (reason) {
    case EjectionReason::kNone:
      return "none";
    case EjectionReason::kConsecutiveFailures:
      return "consecutive_failures";
    case EjectionReason::kSuccessRate:
      return "success_rate";
    case EjectionReason::kFailurePercentage:
      return "failure_percentage";
  }
  return "none";
}

void OutlierDetector::set_endpoints(const std::vector<std::string>& addresses) {
  std::unordered_map<std::string, EndpointState> old;
  for (auto& e : endpoints_) old.emplace(e.address, std::move(e));
  endpoints_.clear();
  endpoints_.reserve(addresses.size());
  for (const auto& a : addresses) {
    auto it = old.find(a);
    if (it != old.end()) {
      endpoints_.push_back(std::move(it->second));
    } else {
      endpoints_.push_back(EndpointState{a});
    }
  }
}

void OutlierDetector::add_counts(size_t index, uint64_t successes, uint64_t failures) {
  if (index >= endpoints_.size()) return;
  endpoints_[index].successes += successes;
  endpoints_[index].failures += failures;
}

size_t OutlierDetector::ejected_count() const {
  return static_cast<size_t>(std::count_if(endpoints_.begin(), endpoints_.end(),
                                           [](const EndpointState& e) { return e.ejected; }));
}

// Envoy's rule on top of A50's: the limit never stops the first ejection, so a cluster of three
// can still lose its one bad member with the default 10%.
bool OutlierDetector::may_eject_another() const {
  const size_t ejected = ejected_count();
  if (ejected == 0) return true;
  return (ejected + 1) * 100 <= config_.max_ejection_percent * endpoints_.size();
}

bool OutlierDetector::eject(size_t index, Nanos now, EjectionReason reason) {
  EndpointState& e = endpoints_[index];
  if (e.ejected || !may_eject_another()) return false;
  e.ejected = true;
  e.ejected_at = now;
  ++e.multiplier;
  ++e.ejections;
  e.reason = reason;
  return true;
}

OutlierDetector::Nanos OutlierDetector::ejected_until(size_t index) const {
  const EndpointState& e = endpoints_[index];
  const Nanos cap = std::max(config_.base_ejection_time, config_.max_ejection_time);
  return e.ejected_at + std::min(config_.base_ejection_time * e.multiplier, cap);
}

bool OutlierDetector::on_consecutive_failures(size_t index, Nanos now) {
  if (config_.consecutive_failures == 0 || index >= endpoints_.size()) return false;
  return eject(index, now, EjectionReason::kConsecutiveFailures);
}

// A50's order: the two algorithms on this interval's counts, then multipliers of endpoints not
// ejected shrink and ejections whose time is up end.
bool OutlierDetector::evaluate(Nanos now) {
  const size_t before = ejected_count();
  bool returned = false;
  if (config_.success_rate) by_success_rate(now);
  if (config_.failure_percentage) by_failure_percentage(now);
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    EndpointState& e = endpoints_[i];
    e.successes = e.failures = 0;
    if (!e.ejected) {
      if (e.multiplier > 0) --e.multiplier;  // a healthy interval: the next ejection is shorter
    } else if (now >= ejected_until(i)) {
      e.ejected = false;
      returned = true;
    }
  }
  return returned || ejected_count() != before;
}

// A50: among endpoints with request_volume calls, those whose success rate is below
// mean - stdev x stdev_factor / 1000, if at least minimum_hosts endpoints had the volume.
void OutlierDetector::by_success_rate(Nanos now) {
  const auto& sr = *config_.success_rate;
  std::vector<std::pair<size_t, double>> rates;
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    const EndpointState& e = endpoints_[i];
    const uint64_t volume = e.successes + e.failures;
    if (e.ejected || volume < sr.request_volume || volume == 0) continue;
    rates.emplace_back(i, static_cast<double>(e.successes) / static_cast<double>(volume));
  }
  if (rates.size() < sr.minimum_hosts || rates.empty()) return;
  double mean = 0;
  for (const auto& r : rates) mean += r.second;
  mean /= static_cast<double>(rates.size());
  double variance = 0;
  for (const auto& r : rates) variance += (r.second - mean) * (r.second - mean);
  variance /= static_cast<double>(rates.size());
  const double threshold = mean - std::sqrt(variance) * (sr.stdev_factor / 1000.0);
  for (const auto& [index, rate] : rates) {
    if (rate < threshold) eject(index, now, EjectionReason::kSuccessRate);
  }
}

// A50: endpoints with request_volume calls whose failure percentage is above the threshold,
// if at least minimum_hosts endpoints had the volume.
void OutlierDetector::by_failure_percentage(Nanos now) {
  const auto& fp = *config_.failure_percentage;
  size_t judged = 0;
  for (const auto& e : endpoints_) {
    if (!e.ejected && e.successes + e.failures >= fp.request_volume) ++judged;
  }
  if (judged < fp.minimum_hosts) return;
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    const EndpointState& e = endpoints_[i];
    const uint64_t volume = e.successes + e.failures;
    if (e.ejected || volume < fp.request_volume || volume == 0) continue;
    if (e.failures * 100 > static_cast<uint64_t>(fp.threshold) * volume) {
      eject(i, now, EjectionReason::kFailurePercentage);
    }
  }
}

}  // namespace sluice::core
