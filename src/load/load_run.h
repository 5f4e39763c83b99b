// A whole load run: worker threads, the common start, the per-interval series and the summary.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/expected.h"
#include "load/load_spec.h"
#include "load/tally.h"

namespace sluice::load {

// One interval of the run, for the progress line and the time series.
struct SeriesPoint {
  double end_s = 0;  // seconds from the start to the end of the interval
  uint64_t calls = 0;
  uint64_t errors = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  std::map<std::string, uint64_t> backends;
};

struct RunResult {
  Tally summary;        // calls finished after the warmup
  uint64_t unfinished;  // in flight (or due, open loop) when the run was cut off
  double seconds;       // the measured window: from the end of the warmup to the last call
  std::vector<SeriesPoint> series;
  double cpu_seconds;  // this process, user + system, over the run
  uint64_t calls_all;  // every call that finished in the run, warmup included (for CPU per call)
  double started_at;   // the start, in seconds since the Unix epoch (to line up several runs)
};

using ProgressCallback = std::function<void(const SeriesPoint&)>;

// Runs `spec`; `progress` is called on the calling thread after every interval, `on_hold`
// once every call finished and the connections are held idle (spec.hold).
Expected<RunResult, std::string> run_load(const LoadSpec& spec, const ProgressCallback& progress,
                                          const std::function<void()>& on_hold = {});

}  // namespace sluice::load
