// Where worker threads hand in their results: every finished interval (for the progress line
// and the time series) and, at the end, their whole-run tally. The main thread takes interval
// k once every worker has handed it in, so a slow worker delays the line, never splits it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "load/tally.h"

namespace sluice::load {

class Collector {
 public:
  explicit Collector(size_t workers);

  // Worker `worker` is done with interval `index` (handed in in order, empty ones too).
  void hand_in(size_t worker, size_t index, Tally tally);
  // Worker `worker` hands in no more intervals; `summary` is its whole run after the warmup,
  // `unfinished` its calls still in flight when the run was cut off.
  void finish(size_t worker, Tally summary, uint64_t unfinished);

  // Waits until every worker has handed in interval `index` or finished, or until `until`.
  // The merged interval; nullopt if every worker finished before reaching it.
  std::optional<Tally> take(size_t index, std::chrono::steady_clock::time_point until);
  bool all_finished();
  // Valid once all_finished().
  Tally summary();
  uint64_t unfinished();

 private:
  bool complete(size_t index) const;

  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<size_t> handed_in_;  // per worker: intervals below this are in
  std::vector<bool> finished_;
  std::map<size_t, Tally> intervals_;
  Tally summary_;
  uint64_t unfinished_ = 0;
};

}  // namespace sluice::load
