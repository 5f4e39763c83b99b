#pragma once

#include <atomic>
#include <cstdint>

namespace sluice::http2 {

// Flow-control and buffer bookkeeping of the connections of one side of one worker: relaxed
// atomics written by that worker only, read by the admin page. Every DATA byte received is
// consumed exactly once, so once every call has ended unconsumed_bytes is back to 0, and
// overconsumed_bytes (consumptions beyond what was received: window inflation) never moves.
struct FlowStats {
  std::atomic<int64_t> unconsumed_bytes{0};
  std::atomic<uint64_t> overconsumed_bytes{0};
  // Bytes waiting in connection write buffers because a socket would block.
  std::atomic<int64_t> write_buffered_bytes{0};
  int64_t buffered() const {
    return unconsumed_bytes.load(std::memory_order_relaxed) +
           write_buffered_bytes.load(std::memory_order_relaxed);
  }
};

}  // namespace sluice::http2
