#include "core/random_pickers.h"

#include <algorithm>
#include <utility>

namespace sluice::core {

RandomPicker::RandomPicker(EndpointSetPtr set, Random& random)
    : set_(std::move(set)), count_(set_ ? set_->endpoints.size() : 0), random_(random) {
  if (count_ == 0) return;
  const auto& eps = set_->endpoints;
  const bool equal = std::all_of(eps.begin(), eps.end(),
                                 [&](const Endpoint& e) { return e.weight == eps[0].weight; });
  if (equal) return;
  uint64_t total = 0;
  cumulative_.reserve(count_);
  for (const Endpoint& e : eps) cumulative_.push_back(total += std::max<uint32_t>(e.weight, 1));
}

size_t RandomPicker::draw() {
  if (cumulative_.empty()) return random_.below(count_);
  const uint64_t r = random_.below(cumulative_.back());
  return static_cast<size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), r) -
                             cumulative_.begin());
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
