// Smooth weighted round robin: at build time an earliest-deadline-first pass (Envoy's EDF
// scheduler: each endpoint is due every 1/weight) lays out one full cycle of picks in a table;
// a pick is then the next table slot, O(1) at any size. Weights 1/1/2 give a, c, b, c, ...
// rather than bursts. A cycle longer than kMaxCycle slots scales the weights down to fit
// (every endpoint keeps at least one slot), so shares are exact to within 1/kMaxCycle.
#pragma once

#include <cstdint>
#include <vector>

#include "core/picker.h"

namespace sluice::core {

class WeightedRoundRobinPicker final : public Picker {
 public:
  static constexpr uint64_t kMaxCycle = 1u << 16;

  // Workers start at random places in the cycle so they do not all send to the same endpoint
  // at the same moment.
  WeightedRoundRobinPicker(EndpointSetPtr set, Random& random);
  using Picker::pick;
  PickResult pick(const PickContext& context) override;
  size_t cycle_length() const { return cycle_.size(); }

 private:
  EndpointSetPtr set_;
  std::vector<uint32_t> cycle_;  // endpoint index per slot
  size_t next_ = 0;              // < cycle_.size() (or 0 when empty)
};

}  // namespace sluice::core
