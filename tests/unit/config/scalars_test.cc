#include "config/scalars.h"

#include <gtest/gtest.h>

namespace sluice::config {
namespace {

TEST(ParseUint, AcceptsDecimalDigitsOnly) {
  EXPECT_EQ(parse_uint("0").value(), 0u);
  EXPECT_EQ(parse_uint("4096").value(), 4096u);
  EXPECT_EQ(parse_uint("18446744073709551615").value(), UINT64_MAX);
  EXPECT_FALSE(parse_uint(""));
  EXPECT_FALSE(parse_uint("-1"));
  EXPECT_FALSE(parse_uint("+1"));
  EXPECT_FALSE(parse_uint(" 1"));
  EXPECT_FALSE(parse_uint("0x10"));
  EXPECT_FALSE(parse_uint("1.5"));
  EXPECT_FALSE(parse_uint("18446744073709551616"));
}

TEST(ParseSize, AcceptsBinarySuffixes) {
  EXPECT_EQ(parse_size("65535").value(), 65535u);
  EXPECT_EQ(parse_size("16KiB").value(), 16u * 1024);
  EXPECT_EQ(parse_size("1MiB").value(), 1u << 20);
  EXPECT_EQ(parse_size("2GiB").value(), uint64_t{2} << 30);
  EXPECT_FALSE(parse_size("16KB"));
  EXPECT_FALSE(parse_size("16 KiB"));
  EXPECT_FALSE(parse_size("KiB"));
  EXPECT_FALSE(parse_size("99999999999999999999MiB"));
  EXPECT_FALSE(parse_size("9999999999999999MiB"));  // overflows when multiplied
}

TEST(ParseDuration, AcceptsUnitsAndPlainMilliseconds) {
  EXPECT_EQ(parse_duration("500ms").value(), Millis(500));
  EXPECT_EQ(parse_duration("10s").value(), Millis(10000));
  EXPECT_EQ(parse_duration("2m").value(), Millis(120000));
  EXPECT_EQ(parse_duration("1h").value(), Millis(3600000));
  EXPECT_EQ(parse_duration("250").value(), Millis(250));
  EXPECT_EQ(parse_duration("8760h").value(), kMaxDuration);
}

TEST(ParseDuration, RejectsZeroUnknownUnitsFractionsAndHugeValues) {
  EXPECT_NE(parse_duration("0s").error().find("positive"), std::string::npos);
  EXPECT_FALSE(parse_duration("0"));
  EXPECT_FALSE(parse_duration("1.5s"));
  EXPECT_FALSE(parse_duration("10sec"));
  EXPECT_FALSE(parse_duration("10 s"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("8761h"));
  EXPECT_FALSE(parse_duration("99999999999999999999h"));
}

TEST(ParseBool, AcceptsYaml12Spellings) {
  EXPECT_TRUE(parse_bool("true").value());
  EXPECT_TRUE(parse_bool("TRUE").value());
  EXPECT_FALSE(parse_bool("false").value());
  EXPECT_FALSE(parse_bool("False").value());
  EXPECT_FALSE(parse_bool("yes"));
  EXPECT_FALSE(parse_bool("1"));
}

}  // namespace
}  // namespace sluice::config
