#include "http2/grpc/timeout.h"

#include <array>
#include <charconv>
#include <limits>

namespace sluice::wire {
namespace {

struct Unit {
  char symbol;
  int64_t nanos;
};

// Finest first: format_grpc_timeout takes the first one that fits.
constexpr std::array<Unit, 6> kUnits = {{
    {'n', 1},
    {'u', 1'000},
    {'m', 1'000'000},
    {'S', 1'000'000'000},
    {'M', 60 * int64_t{1'000'000'000}},
    {'H', 3600 * int64_t{1'000'000'000}},
}};

constexpr size_t kMaxDigits = 8;

const Unit* find_unit(char symbol) {
  for (const Unit& unit : kUnits) {
    if (unit.symbol == symbol) return &unit;
  }
  return nullptr;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Expected<std::chrono::nanoseconds, std::string> parse_grpc_timeout(std::string_view value) {
  using Error = Unexpected<std::string>;
  if (value.empty()) return Error(std::string("grpc-timeout: empty"));
  const std::string_view digits = value.substr(0, value.size() - 1);
  const char symbol = value.back();
  if (digits.empty()) return Error(std::string("grpc-timeout: no digits before the unit"));
  if (digits.size() > kMaxDigits) {
    return Error(std::string("grpc-timeout: more than 8 digits"));
  }
  int64_t number = 0;
  for (char c : digits) {
    if (!is_digit(c)) return Error(std::string("grpc-timeout: non-digit in the value"));
    number = number * 10 + (c - '0');
  }
  const Unit* unit = find_unit(symbol);
  if (unit == nullptr) {
    if (is_digit(symbol)) return Error(std::string("grpc-timeout: missing unit"));
    return Error(std::string("grpc-timeout: unknown unit (want one of H M S m u n)"));
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (number > kMax / unit->nanos) return std::chrono::nanoseconds::max();
  return std::chrono::nanoseconds(number * unit->nanos);
}

std::string format_grpc_timeout(std::chrono::nanoseconds timeout) {
  const int64_t nanos = timeout.count();
  if (nanos <= 0) return "0n";
  for (const Unit& unit : kUnits) {
    // Ceiling division without overflow (nanos > 0).
    const int64_t value = (nanos - 1) / unit.nanos + 1;
    if (value <= kMaxTimeoutValue) {
      char buffer[kMaxDigits + 1];
      const auto [end, ec] = std::to_chars(buffer, buffer + kMaxDigits, value);
      std::string out(buffer, end);
      out += unit.symbol;
      return out;
    }
  }
  // Unreachable: int64 nanoseconds is about 2.6 million hours.
  return "99999999H";
}

}  // namespace sluice::wire
