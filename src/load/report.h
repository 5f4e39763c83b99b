// What a load run prints: the progress line per interval, the summary table, and JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "load/load_run.h"
#include "load/load_spec.h"

namespace sluice::load {

// "  3.0s  4998 calls/s  p50 0.41 ms  p99 1.20 ms  errors 0  |  a 1666  b 1666  c 1666"
std::string progress_line(const SeriesPoint& point, const LoadSpec& spec);
// The table at the end of a run.
std::string summary_text(const LoadSpec& spec, const RunResult& result);
// One interval as JSON (the --live lines and the elements of "series").
nlohmann::json point_json(const SeriesPoint& point);
// The whole run: what was asked, the summary and the series.
nlohmann::json run_json(const LoadSpec& spec, const RunResult& result);

}  // namespace sluice::load
