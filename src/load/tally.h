// Counts of finished calls: by gRPC status, by backend (x-backend-id) and a latency histogram.
// One per worker thread and interval; merged for the progress line and the summary.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "http2/grpc/status.h"
#include "load/histogram.h"

namespace sluice::load {

struct Tally {
  uint64_t calls = 0;
  std::array<uint64_t, wire::kStatusCodeCount> by_status{};
  std::map<std::string, uint64_t, std::less<>> by_backend;
  Histogram latency_ns;  // every finished call, whatever its status

  void add(wire::StatusCode status, uint64_t latency_ns, std::string_view backend);
  void merge(const Tally& other);
  uint64_t ok() const { return by_status[0]; }
  uint64_t errors() const { return calls - ok(); }
};

// Backend name for calls whose response named none (a proxy's own error, a reset stream).
inline constexpr std::string_view kNoBackend = "-";

}  // namespace sluice::load
