// Smooth weighted round robin by earliest deadline first (Envoy's EDF scheduler): each endpoint
// is due every 1/weight; the pick is the one due first, whose next deadline moves 1/weight on.
// Weights 1/1/2 give a, c, b, c, ... rather than bursts; O(log n) per pick.
#pragma once

#include <vector>

#include "core/picker.h"

namespace sluice::core {

class WeightedRoundRobinPicker final : public Picker {
 public:
  // Workers start at random phases so they do not all send to the heaviest endpoint first.
  WeightedRoundRobinPicker(EndpointSetPtr set, Random& random);
  using Picker::pick;
  PickResult pick(const PickContext& context) override;

 private:
  struct Entry {
    double deadline;
    size_t index;
  };
  void push(Entry entry);
  Entry pop();

  EndpointSetPtr set_;
  std::vector<double> period_;  // 1 / weight, by endpoint
  std::vector<Entry> heap_;     // min-heap on (deadline, index)
};

}  // namespace sluice::core
