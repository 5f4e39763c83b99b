#include "discovery/dns_refresh.h"

#include <algorithm>

namespace sluice::discovery {
namespace {

using Millis = std::chrono::milliseconds;

// `base` times a factor in [0.9, 1.1).
Millis jittered(Millis base, double unit) {
  const double factor = 0.9 + 0.2 * std::clamp(unit, 0.0, 1.0);
  return Millis(static_cast<Millis::rep>(static_cast<double>(base.count()) * factor));
}

}  // namespace

Millis refresh_after_answer(std::chrono::seconds min_ttl, Millis min_refresh, Millis max_refresh,
                            double unit) {
  const Millis ttl = std::max(Millis(min_ttl), Millis(0));
  return jittered(std::clamp(ttl, min_refresh, std::max(min_refresh, max_refresh)), unit);
}

Millis refresh_after_failure(int failures, Millis min_refresh, Millis max_refresh, double unit) {
  const Millis cap = std::max(min_refresh, max_refresh);
  Millis delay = min_refresh * 2;
  // Doubling stops at the cap, so a long outage cannot overflow the count.
  for (int i = 1; i < failures && delay < cap; ++i) delay *= 2;
  return jittered(std::min(delay, cap), unit);
}

}  // namespace sluice::discovery
