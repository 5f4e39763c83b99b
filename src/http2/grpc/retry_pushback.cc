#include "http2/grpc/retry_pushback.h"

#include <cstdint>

namespace sluice::wire {

std::optional<RetryPushback> parse_retry_pushback(std::optional<std::string_view> header) {
  if (!header) return std::nullopt;
  const std::string_view text = *header;
  // At most 10 digits (over 3 months): longer is malformed rather than overflowing.
  if (text.empty() || text.size() > 10) return RetryPushback{.retry = false};
  int64_t ms = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return RetryPushback{.retry = false};  // a sign, a space, a dot
    ms = ms * 10 + (c - '0');
  }
  return RetryPushback{.retry = true, .delay = std::chrono::milliseconds(ms)};
}

}  // namespace sluice::wire
