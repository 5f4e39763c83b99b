#include "config/scalars.h"

#include <algorithm>
#include <limits>

namespace sluice::config {
namespace {

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Splits "123abc" into the leading digits and the rest.
std::pair<std::string_view, std::string_view> split_digits(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  return {text.substr(0, i), text.substr(i)};
}

// Multiplies with an overflow check; the callers' ranges are far below 2^64.
bool checked_multiply(uint64_t a, uint64_t b, uint64_t* out) {
  if (b != 0 && a > std::numeric_limits<uint64_t>::max() / b) return false;
  *out = a * b;
  return true;
}

}  // namespace

Expected<double, std::string> parse_decimal(std::string_view text) {
  const auto [whole, rest] = split_digits(text);
  std::string_view fraction;
  bool ok = !whole.empty() && (rest.empty() || rest[0] == '.');
  if (ok && !rest.empty()) {
    auto [digits, tail] = split_digits(rest.substr(1));
    fraction = digits;
    ok = !digits.empty() && tail.empty();
  }
  if (!ok || whole.size() > 9) {
    return Unexpected<std::string>("expected a decimal number such as 1 or 0.5, got " +
                                   quoted(text));
  }
  double value = 0;
  for (char c : whole) value = value * 10 + (c - '0');
  double scale = 0.1;
  for (char c : fraction) {
    value += (c - '0') * scale;
    scale /= 10;
  }
  return value;
}

Expected<uint64_t, std::string> parse_uint(std::string_view text) {
  if (text.empty()) return Unexpected<std::string>("expected an integer, got nothing");
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return Unexpected<std::string>("expected a non-negative integer, got " + quoted(text));
    }
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return Unexpected<std::string>("integer " + quoted(text) + " is too large");
    }
    value = value * 10 + digit;
  }
  return value;
}

Expected<uint64_t, std::string> parse_size(std::string_view text) {
  const auto [digits, suffix] = split_digits(text);
  const std::string usage = "expected a size such as 65536, 64KiB or 16MiB, got " + quoted(text);
  if (digits.empty()) return Unexpected<std::string>(usage);
  uint64_t unit = 0;
  if (suffix.empty()) {
    unit = 1;
  } else if (suffix == "KiB") {
    unit = uint64_t{1} << 10;
  } else if (suffix == "MiB") {
    unit = uint64_t{1} << 20;
  } else if (suffix == "GiB") {
    unit = uint64_t{1} << 30;
  } else {
    return Unexpected<std::string>(usage);
  }
  auto count = parse_uint(digits);
  if (!count) return Unexpected<std::string>(count.error());
  uint64_t bytes = 0;
  if (!checked_multiply(*count, unit, &bytes)) {
    return Unexpected<std::string>("size " + quoted(text) + " is too large");
  }
  return bytes;
}

Expected<Millis, std::string> parse_duration(std::string_view text) {
  const auto [digits, unit] = split_digits(text);
  const std::string usage =
      "expected a duration such as 500ms, 10s, 2m or 1h (a plain integer means ms), got " +
      quoted(text);
  if (digits.empty()) return Unexpected<std::string>(usage);
  uint64_t unit_ms = 0;
  if (unit.empty() || unit == "ms") {
    unit_ms = 1;
  } else if (unit == "s") {
    unit_ms = 1000;
  } else if (unit == "m") {
    unit_ms = 60 * 1000;
  } else if (unit == "h") {
    unit_ms = 60 * 60 * 1000;
  } else {
    return Unexpected<std::string>(usage);
  }
  auto count = parse_uint(digits);
  if (!count) return Unexpected<std::string>(count.error());
  uint64_t ms = 0;
  const uint64_t max_ms = static_cast<uint64_t>(kMaxDuration.count());
  if (!checked_multiply(*count, unit_ms, &ms) || ms > max_ms) {
    return Unexpected<std::string>("duration " + quoted(text) +
                                   " is longer than the maximum 8760h");
  }
  if (ms == 0) return Unexpected<std::string>("duration must be positive, got " + quoted(text));
  return Millis(static_cast<int64_t>(ms));
}

Expected<std::chrono::nanoseconds, std::string> parse_proto_duration(std::string_view text) {
  const std::string usage =
      "expected a duration in seconds such as \"0.1s\" or \"10s\" (gRPC JSON), got " + quoted(text);
  if (text.size() < 2 || text.back() != 's') return Unexpected<std::string>(usage);
  const std::string_view number = text.substr(0, text.size() - 1);
  const size_t dot = number.find('.');
  const std::string_view whole = number.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? "" : number.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && fraction.empty()) || fraction.size() > 9 ||
      !std::all_of(fraction.begin(), fraction.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Unexpected<std::string>(usage);
  }
  auto seconds = parse_uint(whole);
  if (!seconds) return Unexpected<std::string>(usage);
  const uint64_t max_seconds =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(kMaxDuration).count());
  if (*seconds > max_seconds) {
    return Unexpected<std::string>("duration " + quoted(text) +
                                   " is longer than the maximum 31536000s");
  }
  int64_t nanos = 0;
  for (size_t i = 0; i < 9; ++i) nanos = nanos * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  const auto total = std::chrono::seconds(*seconds) + std::chrono::nanoseconds(nanos);
  if (total.count() == 0)
    return Unexpected<std::string>("duration must be positive, got " + quoted(text));
  if (total > kMaxDuration) {
    return Unexpected<std::string>("duration " + quoted(text) +
                                   " is longer than the maximum 31536000s");
  }
  return std::chrono::nanoseconds(total);
}

Expected<bool, std::string> parse_bool(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return Unexpected<std::string>("expected true or false, got " + quoted(text));
}

}  // namespace sluice::config
