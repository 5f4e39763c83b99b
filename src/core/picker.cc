#include "core/picker.h"

#include <algorithm>
#include <utility>

#include "core/random.h"

namespace sluice::core {

void TriedSet::add(size_t index) {
  // Full: drop the newcomer. Attempts are capped (gRFC A6: 5) well below kMax.
  if (n_ == kMax || contains(index)) return;
  items_[n_++] = index;
}

void TriedSet::remove(size_t index) {
  auto end = std::remove(items_, items_ + n_, index);
  n_ = static_cast<size_t>(end - items_);
}

bool TriedSet::contains(size_t index) const {
  return std::find(items_, items_ + n_, index) != items_ + n_;
}

namespace {
size_t endpoint_count(const EndpointSetPtr& set) { return set ? set->endpoints.size() : 0; }
}  // namespace

RoundRobinPicker::RoundRobinPicker(EndpointSetPtr set, uint64_t start)
    : set_(std::move(set)), count_(endpoint_count(set_)), next_(count_ ? start % count_ : 0) {}

PickResult RoundRobinPicker::pick(const TriedSet& tried) {
  if (count_ == 0) return PickFail{"no endpoints"};
  size_t chosen = next_;
  if (tried.size() != 0) {
    // k tried indices can cover at most k consecutive slots, so k+1 probes find an untried
    // one if any exists. If all are tried, fall back to plain rotation (chosen = next_).
    const size_t probes = std::min(count_, tried.size() + 1);
    for (size_t i = 0, candidate = next_; i < probes; ++i) {
      if (!tried.contains(candidate)) {
        chosen = candidate;
        break;
      }
      if (++candidate == count_) candidate = 0;
    }
  }
  next_ = chosen + 1 == count_ ? 0 : chosen + 1;
  return PickComplete{chosen};
}

std::unique_ptr<Picker> make_picker(const std::string& policy, EndpointSetPtr set, Random& random) {
  if (policy == "round_robin") {
    const size_t count = endpoint_count(set);
    const uint64_t start = count ? random.below(count) : 0;
    return std::make_unique<RoundRobinPicker>(std::move(set), start);
  }
  return nullptr;
}

}  // namespace sluice::core
