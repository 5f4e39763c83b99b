#include "http2/grpc/timeout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

namespace sluice::wire {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

nanoseconds parse_ok(std::string_view value) {
  const auto parsed = parse_grpc_timeout(value);
  EXPECT_TRUE(parsed.has_value()) << "'" << value << "': " << parsed.error();
  return parsed.has_value() ? *parsed : nanoseconds(-1);
}

std::string parse_error(std::string_view value) {
  const auto parsed = parse_grpc_timeout(value);
  EXPECT_FALSE(parsed.has_value()) << "'" << value << "' parsed";
  return parsed.has_value() ? std::string() : parsed.error();
}

TEST(ParseGrpcTimeout, EveryUnit) {
  EXPECT_EQ(parse_ok("1n"), nanoseconds(1));
  EXPECT_EQ(parse_ok("2u"), microseconds(2));
  EXPECT_EQ(parse_ok("30m"), milliseconds(30));
  EXPECT_EQ(parse_ok("4S"), seconds(4));
  EXPECT_EQ(parse_ok("5M"), minutes(5));
  EXPECT_EQ(parse_ok("6H"), hours(6));
}

TEST(ParseGrpcTimeout, ZeroAndLeadingZeros) {
  EXPECT_EQ(parse_ok("0n"), nanoseconds(0));
  EXPECT_EQ(parse_ok("00000001S"), seconds(1));
}

TEST(ParseGrpcTimeout, EightDigitsIsTheLimit) {
  EXPECT_EQ(parse_ok("99999999m"), milliseconds(99'999'999));
  EXPECT_NE(parse_error("100000000m").find("8 digits"), std::string::npos);
  EXPECT_NE(parse_error("000000001m").find("8 digits"), std::string::npos);
}

TEST(ParseGrpcTimeout, SaturatesInsteadOfOverflowing) {
  // 99999999 hours is ~3.6e20 ns, beyond int64.
  EXPECT_EQ(parse_ok("99999999H"), nanoseconds::max());
  EXPECT_EQ(parse_ok("2562048H"), nanoseconds::max());  // just past int64 nanoseconds
  EXPECT_EQ(parse_ok("2562047H"), hours(2'562'047));    // just below it
  // Still representable: exact.
  EXPECT_EQ(parse_ok("2000000H"), hours(2'000'000));
  EXPECT_EQ(parse_ok("99999999S"), seconds(99'999'999));
  EXPECT_EQ(parse_ok("99999999M"), minutes(99'999'999));  // 6e18 ns still fits
}

TEST(ParseGrpcTimeout, ErrorsNameTheProblem) {
  EXPECT_NE(parse_error("").find("empty"), std::string::npos);
  EXPECT_NE(parse_error("S").find("no digits"), std::string::npos);
  EXPECT_NE(parse_error("10").find("missing unit"), std::string::npos);
  EXPECT_NE(parse_error("10s").find("unknown unit"), std::string::npos);
  EXPECT_NE(parse_error("10h").find("unknown unit"), std::string::npos);
  EXPECT_NE(parse_error("1x").find("unknown unit"), std::string::npos);
  EXPECT_NE(parse_error("1 S").find("non-digit"), std::string::npos);
  EXPECT_NE(parse_error("-1S").find("non-digit"), std::string::npos);
  EXPECT_NE(parse_error("+1S").find("non-digit"), std::string::npos);
  EXPECT_NE(parse_error("1.5S").find("non-digit"), std::string::npos);
}

TEST(ParseGrpcTimeout, RejectsSurroundingJunk) {
  for (const char* bad : {" 1S", "1S ", "1SS", "1Sn", "S1", "1\tS"}) {
    parse_error(bad);
  }
}

TEST(FormatGrpcTimeout, PicksTheFinestUnitThatFits) {
  EXPECT_EQ(format_grpc_timeout(nanoseconds(1)), "1n");
  EXPECT_EQ(format_grpc_timeout(nanoseconds(99'999'999)), "99999999n");
  EXPECT_EQ(format_grpc_timeout(milliseconds(100)), "100000u");
  EXPECT_EQ(format_grpc_timeout(seconds(1)), "1000000u");
  EXPECT_EQ(format_grpc_timeout(seconds(100)), "100000m");
  EXPECT_EQ(format_grpc_timeout(hours(24)), "86400000m");
  EXPECT_EQ(format_grpc_timeout(hours(28)), "100800S");
  EXPECT_EQ(format_grpc_timeout(hours(100'000)), "6000000M");
  EXPECT_EQ(format_grpc_timeout(nanoseconds::max()), "2562048H");
}

TEST(FormatGrpcTimeout, RoundsUpNeverDown) {
  // 100000000 ns does not fit in 8 digits of n; in u it is exact.
  EXPECT_EQ(format_grpc_timeout(nanoseconds(100'000'000)), "100000u");
  // One nanosecond more must round up to the next microsecond, not drop the remainder.
  EXPECT_EQ(format_grpc_timeout(nanoseconds(100'000'001)), "100001u");
  EXPECT_EQ(format_grpc_timeout(nanoseconds(123'456'789'012)), "123457m");  // 9 digits of u
}

TEST(FormatGrpcTimeout, ZeroAndNegativeAreExpired) {
  EXPECT_EQ(format_grpc_timeout(nanoseconds(0)), "0n");
  EXPECT_EQ(format_grpc_timeout(nanoseconds(-5)), "0n");
  EXPECT_EQ(format_grpc_timeout(nanoseconds::min()), "0n");
}

// Coarsest unit size format_grpc_timeout may use for d: the round-trip error bound.
nanoseconds unit_used(std::string_view formatted) {
  switch (formatted.back()) {
    case 'n':
      return nanoseconds(1);
    case 'u':
      return microseconds(1);
    case 'm':
      return milliseconds(1);
    case 'S':
      return seconds(1);
    case 'M':
      return minutes(1);
    default:
      return hours(1);
  }
}

void check_round_trip(nanoseconds d) {
  const std::string formatted = format_grpc_timeout(d);
  ASSERT_LE(formatted.size(), 9u) << formatted;
  const nanoseconds back = parse_ok(formatted);
  ASSERT_GE(back, d) << formatted;
  // Saturation at max is the only allowed way to land beyond d + unit.
  if (back != nanoseconds::max()) {
    ASSERT_LT(back - d, unit_used(formatted)) << d.count() << " -> " << formatted;
  }
}

TEST(GrpcTimeoutRoundTrip, BoundaryValues) {
  for (int64_t v : {int64_t{1}, int64_t{999}, int64_t{99'999'999}, int64_t{100'000'000},
                    int64_t{100'000'001}, int64_t{99'999'999'000}, int64_t{99'999'999'001},
                    int64_t{99'999'999'000'000}, int64_t{99'999'999'000'001},
                    int64_t{99'999'999'000'000'000}, int64_t{99'999'999'000'000'001},
                    std::numeric_limits<int64_t>::max() - 1, std::numeric_limits<int64_t>::max()}) {
    check_round_trip(nanoseconds(v));
  }
}

TEST(GrpcTimeoutRoundTrip, RandomDurationsAtEveryScale) {
  std::mt19937_64 rng(20240601);
  for (int shift = 0; shift < 63; ++shift) {
    for (int i = 0; i < 200; ++i) {
      const int64_t v = static_cast<int64_t>(rng() >> (63 - shift));  // < 2^(shift+1)
      check_round_trip(nanoseconds(std::max<int64_t>(v, 1)));
    }
  }
}

TEST(GrpcTimeoutRoundTrip, ParseThenFormatNeverShortens) {
  for (const char* value : {"1n", "5S", "99999999n", "100m", "7H", "99999999u", "250000M"}) {
    const nanoseconds d = parse_ok(value);
    EXPECT_GE(parse_ok(format_grpc_timeout(d)), d) << value;
  }
}

}  // namespace
}  // namespace sluice::wire
