#include "core/weighted_round_robin_picker.h"

#include <algorithm>
#include <utility>

namespace sluice::core {
namespace {

// std heap functions build a max-heap; "later deadline" as "less" makes the earliest the top.
bool later(const auto& a, const auto& b) {
  return a.deadline != b.deadline ? a.deadline > b.deadline : a.index > b.index;
}

}  // namespace

WeightedRoundRobinPicker::WeightedRoundRobinPicker(EndpointSetPtr set, Random& random)
    : set_(std::move(set)) {
  const size_t count = set_ ? set_->endpoints.size() : 0;
  period_.reserve(count);
  heap_.reserve(count);
  constexpr uint64_t kSteps = 1u << 20;
  for (size_t i = 0; i < count; ++i) {
    const double period = 1.0 / std::max<uint32_t>(set_->endpoints[i].weight, 1);
    period_.push_back(period);
    const double phase = static_cast<double>(random.below(kSteps)) / kSteps;
    heap_.push_back({period * phase, i});
  }
  std::make_heap(heap_.begin(), heap_.end(), later<Entry, Entry>);
}

void WeightedRoundRobinPicker::push(Entry entry) {
  heap_.push_back(entry);
  std::push_heap(heap_.begin(), heap_.end(), later<Entry, Entry>);
}

WeightedRoundRobinPicker::Entry WeightedRoundRobinPicker::pop() {
  std::pop_heap(heap_.begin(), heap_.end(), later<Entry, Entry>);
  Entry top = heap_.back();
  heap_.pop_back();
  return top;
}

PickResult WeightedRoundRobinPicker::pick(const PickContext& context) {
  if (heap_.empty()) return PickFail{"no endpoints"};
  const TriedSet& tried = context.tried;
  // Every endpoint is in the heap once, so k tried ones hide at most the first k entries:
  // k + 1 pops find an untried one if any exists. Entries passed over keep their deadline.
  Entry popped[TriedSet::kMax + 1] = {};
  const size_t probes = std::min(heap_.size(), tried.size() + 1);
  size_t n = 0;
  size_t chosen = 0;  // position in `popped`; the first one when all are tried
  for (; n < probes; ++n) {
    popped[n] = pop();
    if (!tried.contains(popped[n].index)) {
      chosen = n++;
      break;
    }
  }
  const size_t index = popped[chosen].index;
  popped[chosen].deadline += period_[index];
  for (size_t i = 0; i < n; ++i) push(popped[i]);
  return PickComplete{index};
}

}  // namespace sluice::core
