// Waiting on events instead of sleeping: tests poll what they wait for (a metric value, a
// backend's counter, a count of calls) and fail with a message when it never comes.
#pragma once

#include <chrono>
#include <thread>

namespace sluice::testing {

// Polls `condition` every 10 ms until it holds or `timeout` passes; whether it held.
template <typename Condition>
bool wait_until(Condition condition,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace sluice::testing
