// Power of two choices (Mitzenmacher): sample a few distinct endpoints at random and take the
// least loaded. Cheap (no scan of the set), and it avoids the herd that "always the least
// loaded" causes when many pickers see the same counts.
#pragma once

#include <vector>

#include "core/picker.h"

namespace sluice::core {

// Shared sampling of both P2C policies: `choice_count` distinct untried endpoints (all of them
// when there are no more), the lowest cost wins, ties go to the first sampled.
class P2cPicker : public Picker {
 public:
  using Picker::pick;
  PickResult pick(const PickContext& context) override;

 protected:
  P2cPicker(EndpointSetPtr set, LoadTable loads, uint32_t choice_count, Random& random);
  virtual double cost(size_t index, Nanos now) const = 0;

  EndpointSetPtr set_;
  LoadTable loads_;
  std::vector<double> weight_;

 private:
  size_t sample(const TriedSet& tried, size_t* out);
  size_t count_;
  uint32_t choices_;
  Random& random_;
};

// least_request (Envoy): cost = (in_flight + 1)^bias / weight. Bias 1 is plain "fewest
// in-flight calls per unit of weight"; 0 ignores load (weighted random).
class LeastRequestPicker final : public P2cPicker {
 public:
  LeastRequestPicker(EndpointSetPtr set, LoadTable loads, const PolicyConfig& config,
                     Random& random);

 private:
  double cost(size_t index, Nanos now) const override;
  double bias_;
};

// peak_ewma (Linkerd/tower, Finagle): cost = rtt_estimate * (in_flight + 1) / weight, the
// estimate decayed to the pick's time; endpoints with no sample yet count default_rtt.
class PeakEwmaPicker final : public P2cPicker {
 public:
  PeakEwmaPicker(EndpointSetPtr set, LoadTable loads, const PolicyConfig& config, Random& random);

 private:
  double cost(size_t index, Nanos now) const override;
  Nanos decay_;
  Nanos default_rtt_;
};

}  // namespace sluice::core
