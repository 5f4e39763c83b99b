#include "core/random_pickers.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace sluice::core {

RandomPicker::RandomPicker(EndpointSetPtr set, Random& random)
    : set_(std::move(set)), count_(set_ ? set_->endpoints.size() : 0), random_(random) {
  if (count_ == 0) return;
  const auto& eps = set_->endpoints;
  const bool equal = std::all_of(eps.begin(), eps.end(),
                                 [&](const Endpoint& e) { return e.weight == eps[0].weight; });
  if (equal) return;
  double total = 0;
  for (const Endpoint& e : eps) total += std::max<uint32_t>(e.weight, 1);
  // Vose: scaled weights (mean 1) split into small and large; each small slot is topped up
  // from a large one, which becomes its alias.
  std::vector<double> scaled(count_);
  std::vector<size_t> small, large;
  for (size_t i = 0; i < count_; ++i) {
    scaled[i] = std::max<uint32_t>(eps[i].weight, 1) * static_cast<double>(count_) / total;
    (scaled[i] < 1.0 ? small : large).push_back(i);
  }
  threshold_.assign(count_, UINT32_MAX);
  alias_.resize(count_);
  for (size_t i = 0; i < count_; ++i) alias_[i] = static_cast<uint32_t>(i);
  while (!small.empty() && !large.empty()) {
    const size_t s = small.back();
    small.pop_back();
    const size_t l = large.back();
    threshold_[s] = static_cast<uint32_t>(scaled[s] * 4294967296.0);
    alias_[s] = static_cast<uint32_t>(l);
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // What is left has probability 1 (up to rounding): it keeps its own slot.
}

size_t RandomPicker::draw() {
  const size_t slot = random_.below(count_);
  if (threshold_.empty() || threshold_[slot] == UINT32_MAX) return slot;
  return static_cast<uint32_t>(random_.next()) < threshold_[slot] ? slot : alias_[slot];
}

PickResult RandomPicker::pick(const PickContext& context) {
  if (count_ == 0) return PickFail{"no endpoints"};
  const size_t first = draw();
  if (!context.tried.contains(first)) return PickComplete{first};
  const size_t second = draw();
  return PickComplete{first_untried(second, count_, context.tried)};
}

PickFirstPicker::PickFirstPicker(EndpointSetPtr set)
    : set_(std::move(set)), count_(set_ ? set_->endpoints.size() : 0) {}

PickResult PickFirstPicker::pick(const PickContext& context) {
  if (count_ == 0) return PickFail{"no endpoints"};
  return PickComplete{first_untried(0, count_, context.tried)};
}

}  // namespace sluice::core
