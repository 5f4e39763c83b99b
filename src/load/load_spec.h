// Everything a load run needs to know, as the CLI parsed it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "load/call_body.h"

namespace sluice::load {

struct LoadSpec {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string authority;  // :authority; empty = host:port
  CallShape call;
  // Request metadata added to every call (name lowercase).
  std::vector<std::pair<std::string, std::string>> metadata;
  std::chrono::milliseconds timeout{0};  // grpc-timeout sent with each call; 0 = none

  uint32_t threads = 1;
  uint32_t connections = 1;  // in total, spread over the threads
  // Open loop when rate > 0: calls per second in total, latency from the due time.
  double rate = 0;
  // Closed loop (rate == 0): calls kept in flight in total.
  uint32_t concurrency = 10;

  std::chrono::nanoseconds duration{std::chrono::seconds(10)};
  uint64_t max_calls = 0;  // stop after this many calls (0 = no limit)
  // Calls finishing in the first `warmup` count in the time series but not in the summary.
  std::chrono::nanoseconds warmup{0};
  std::chrono::nanoseconds interval{std::chrono::seconds(1)};
  // After the run: how long calls still in flight may take before they count as unfinished.
  std::chrono::nanoseconds drain{std::chrono::seconds(5)};
  // After the last call, the connections stay open and idle this long (to measure what a
  // used, idle connection costs the target).
  std::chrono::nanoseconds hold{0};
  std::chrono::milliseconds connect_timeout{5000};
};

}  // namespace sluice::load
