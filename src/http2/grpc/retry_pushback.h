// grpc-retry-pushback-ms (gRFC A6): a server's word on when, or whether, to retry. A
// non-negative decimal integer means retry after exactly that many milliseconds (no jitter);
// anything else present (negative, malformed) means do not retry.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace sluice::wire {

struct RetryPushback {
  bool retry = true;                   // false: the server said stop
  std::chrono::milliseconds delay{0};  // when retry: wait this long
};

// nullopt when the header is absent (the policy's backoff applies).
std::optional<RetryPushback> parse_retry_pushback(std::optional<std::string_view> header);

}  // namespace sluice::wire
