// The two simplest policies: weighted random, and pick_first (gRPC's default, for parity).
#pragma once

#include <vector>

#include "core/picker.h"

namespace sluice::core {

// Uniform when weights are equal, else proportional to weight by Vose's alias method (one draw
// of a slot and one of a threshold, O(1) at any size). A retry draws again, then walks to the
// next untried endpoint.
class RandomPicker final : public Picker {
 public:
  RandomPicker(EndpointSetPtr set, Random& random);
  using Picker::pick;
  PickResult pick(const PickContext& context) override;

 private:
  size_t draw();
  EndpointSetPtr set_;
  // Alias table, empty when every weight is equal: slot i keeps endpoint i when a uniform
  // draw in [0, 2^32) is below threshold_[i], else it gives alias_[i].
  std::vector<uint32_t> threshold_;
  std::vector<uint32_t> alias_;
  size_t count_;
  Random& random_;
};

// The first endpoint in configured order that the call has not tried; the pool's connect
// backoff makes the caller skip an unreachable one, so calls fail over in order.
class PickFirstPicker final : public Picker {
 public:
  explicit PickFirstPicker(EndpointSetPtr set);
  using Picker::pick;
  PickResult pick(const PickContext& context) override;

 private:
  EndpointSetPtr set_;
  size_t count_;
};

}  // namespace sluice::core
