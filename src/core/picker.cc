#include "core/picker.h"

#include <algorithm>
#include <utility>

#include "core/p2c_pickers.h"
#include "core/random.h"
#include "core/random_pickers.h"
#include "core/ring_hash_picker.h"
#include "core/weighted_round_robin_picker.h"

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

PickResult RoundRobinPicker::pick(const PickContext& context) {
  if (count_ == 0) return PickFail{"no endpoints"};
  const TriedSet& tried = context.tried;
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

size_t first_untried(size_t start, size_t count, const TriedSet& tried) {
  if (tried.size() == 0) return start;
  for (size_t i = 0, candidate = start; i < count; ++i) {
    if (!tried.contains(candidate)) return candidate;
    if (++candidate == count) candidate = 0;
  }
  return start;
}

std::unique_ptr<Picker> make_picker(const PolicyConfig& policy, EndpointSetPtr set, LoadTable loads,
                                    Random& random) {
  const size_t count = endpoint_count(set);
  switch (policy.kind) {
    case PolicyKind::kRoundRobin:
      return std::make_unique<RoundRobinPicker>(std::move(set), count ? random.below(count) : 0);
    case PolicyKind::kWeightedRoundRobin:
      return std::make_unique<WeightedRoundRobinPicker>(std::move(set), random);
    case PolicyKind::kLeastRequest:
      return std::make_unique<LeastRequestPicker>(std::move(set), std::move(loads), policy, random);
    case PolicyKind::kPeakEwma:
      return std::make_unique<PeakEwmaPicker>(std::move(set), std::move(loads), policy, random);
    case PolicyKind::kRingHash:
      return std::make_unique<RingHashPicker>(std::move(set), policy, random);
    case PolicyKind::kRandom:
      return std::make_unique<RandomPicker>(std::move(set), random);
    case PolicyKind::kPickFirst:
      return std::make_unique<PickFirstPicker>(std::move(set));
  }
  return nullptr;
}

}  // namespace sluice::core
