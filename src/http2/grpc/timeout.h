// The grpc-timeout header (PROTOCOL-HTTP2.md): TimeoutValue TimeoutUnit, where the value is
// 1 to 8 ASCII digits and the unit one of H (hours), M (minutes), S (seconds),
// m (milliseconds), u (microseconds), n (nanoseconds).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/expected.h"

namespace sluice::wire {

// Largest value the header can carry in any unit.
inline constexpr int64_t kMaxTimeoutValue = 99'999'999;

// Strict parse; the error text says what is wrong ("empty", "too many digits", "unknown
// unit 'x'"...). Values too large for nanoseconds (e.g. "99999999H") saturate at
// nanoseconds::max() instead of overflowing.
Expected<std::chrono::nanoseconds, std::string> parse_grpc_timeout(std::string_view value);

// Encodes a remaining deadline. Chooses the finest unit whose value fits in 8 digits and
// rounds UP within it, so parse(format(d)) >= d and exceeds d by less than one of that unit:
// forwarding never shortens a deadline. Zero or negative durations give "0n" (an already
// expired deadline); the proxy fails such calls with DEADLINE_EXCEEDED rather than send them.
std::string format_grpc_timeout(std::chrono::nanoseconds timeout);

}  // namespace sluice::wire
