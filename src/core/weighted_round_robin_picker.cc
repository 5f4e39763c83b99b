#include "core/weighted_round_robin_picker.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace sluice::core {
namespace {

struct Due {
  double deadline;
  uint32_t index;
};

// std heap functions build a max-heap; "later deadline" as "less" puts the earliest on top.
bool later(const Due& a, const Due& b) {
  return a.deadline != b.deadline ? a.deadline > b.deadline : a.index > b.index;
}

// Weights as slots per cycle: as given, or scaled down to fit kMaxCycle.
std::vector<uint64_t> slots_per_endpoint(const std::vector<Endpoint>& eps, uint64_t max_cycle) {
  std::vector<uint64_t> slots;
  uint64_t total = 0;
  for (const Endpoint& e : eps) total += slots.emplace_back(std::max<uint32_t>(e.weight, 1));
  if (total <= max_cycle) return slots;
  const double scale = static_cast<double>(max_cycle) / static_cast<double>(total);
  for (uint64_t& s : slots) {
    s = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(static_cast<double>(s) * scale)));
  }
  return slots;
}

}  // namespace

WeightedRoundRobinPicker::WeightedRoundRobinPicker(EndpointSetPtr set, Random& random)
    : set_(std::move(set)) {
  if (!set_ || set_->endpoints.empty()) return;
  const auto slots =
      slots_per_endpoint(set_->endpoints, std::max<uint64_t>(kMaxCycle, set_->endpoints.size()));
  uint64_t total = 0;
  std::vector<Due> heap;
  heap.reserve(slots.size());
  for (size_t i = 0; i < slots.size(); ++i) {
    total += slots[i];
    // Half a period in: endpoints of equal weight alternate from the first slot on.
    heap.push_back({0.5 / static_cast<double>(slots[i]), static_cast<uint32_t>(i)});
  }
  std::make_heap(heap.begin(), heap.end(), later);
  cycle_.reserve(total);
  for (uint64_t k = 0; k < total; ++k) {
    std::pop_heap(heap.begin(), heap.end(), later);
    Due& due = heap.back();
    cycle_.push_back(due.index);
    due.deadline += 1.0 / static_cast<double>(slots[due.index]);
    std::push_heap(heap.begin(), heap.end(), later);
  }
  next_ = random.below(cycle_.size());
}

PickResult WeightedRoundRobinPicker::pick(const PickContext& context) {
  if (cycle_.empty()) return PickFail{"no endpoints"};
  const TriedSet& tried = context.tried;
  size_t at = next_;
  if (tried.size() != 0) {
    // Walk on to the next slot of an untried endpoint; if every one was tried, plain rotation.
    for (size_t step = 0, probe = next_; step < cycle_.size(); ++step) {
      if (!tried.contains(cycle_[probe])) {
        at = probe;
        break;
      }
      if (++probe == cycle_.size()) probe = 0;
    }
  }
  next_ = at + 1 == cycle_.size() ? 0 : at + 1;
  return PickComplete{cycle_[at]};
}

}  // namespace sluice::core
