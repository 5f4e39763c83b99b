#include "load/collector.h"

#include <algorithm>

namespace sluice::load {

Collector::Collector(size_t workers) : handed_in_(workers, 0), finished_(workers, false) {}

void Collector::hand_in(size_t worker, size_t index, Tally tally) {
  std::lock_guard lock(mu_);
  intervals_[index].merge(tally);
  handed_in_[worker] = std::max(handed_in_[worker], index + 1);
  changed_.notify_all();
}

void Collector::finish(size_t worker, Tally summary, uint64_t unfinished) {
  std::lock_guard lock(mu_);
  summary_.merge(summary);
  unfinished_ += unfinished;
  finished_[worker] = true;
  changed_.notify_all();
}

bool Collector::complete(size_t index) const {
  for (size_t w = 0; w < finished_.size(); ++w) {
    if (!finished_[w] && handed_in_[w] <= index) return false;
  }
  return true;
}

std::optional<Tally> Collector::take(size_t index, std::chrono::steady_clock::time_point until) {
  std::unique_lock lock(mu_);
  changed_.wait_until(lock, until, [&] { return complete(index); });
  auto it = intervals_.find(index);
  if (it != intervals_.end()) {
    Tally t = std::move(it->second);
    intervals_.erase(it);
    return t;
  }
  const bool reached = std::any_of(handed_in_.begin(), handed_in_.end(),
                                   [&](size_t through) { return through > index; });
  if (!reached && std::all_of(finished_.begin(), finished_.end(), [](bool f) { return f; })) {
    return std::nullopt;
  }
  return Tally{};
}

bool Collector::all_finished() {
  std::lock_guard lock(mu_);
  return std::all_of(finished_.begin(), finished_.end(), [](bool f) { return f; });
}

Tally Collector::summary() {
  std::lock_guard lock(mu_);
  return summary_;
}

uint64_t Collector::unfinished() {
  std::lock_guard lock(mu_);
  return unfinished_;
}

}  // namespace sluice::load
