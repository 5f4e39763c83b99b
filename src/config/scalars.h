// Parsers for the scalar value syntaxes of the config: integers, sizes, durations, booleans.
// Each returns a human-readable reason on failure; the caller adds file, line and field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/expected.h"
#include "config/config.h"

namespace sluice::config {

// The longest duration accepted anywhere, so that "now + duration" cannot overflow a clock.
inline constexpr Millis kMaxDuration = std::chrono::hours(24 * 365);

// Decimal digits only: no sign, no spaces, no hex.
Expected<uint64_t, std::string> parse_uint(std::string_view text);

// An integer with an optional suffix KiB, MiB or GiB.
Expected<uint64_t, std::string> parse_size(std::string_view text);

// An integer with a unit ms, s, m or h; a plain integer means milliseconds. Must be positive and
// at most kMaxDuration.
Expected<Millis, std::string> parse_duration(std::string_view text);

// A protobuf JSON duration as gRPC service configs write them: seconds with up to nine decimals
// and an "s" ("0.1s", "10s", "1.000000001s"). Must be positive and at most kMaxDuration.
Expected<std::chrono::nanoseconds, std::string> parse_proto_duration(std::string_view text);

// A non-negative decimal such as 1, 0.5 or 2.25 (no sign, no exponent), at most 1e9.
Expected<double, std::string> parse_decimal(std::string_view text);

// true / false (also True, TRUE, False, FALSE as in YAML 1.2).
Expected<bool, std::string> parse_bool(std::string_view text);

}  // namespace sluice::config
