#include "http2/grpc/retry_pushback.h"

#include <gtest/gtest.h>

namespace sluice::wire {
namespace {

using namespace std::chrono_literals;

TEST(RetryPushback, AbsentLeavesItToThePolicy) {
  EXPECT_FALSE(parse_retry_pushback(std::nullopt).has_value());
}

TEST(RetryPushback, ANonNegativeIntegerIsTheExactDelay) {
  auto p = parse_retry_pushback("250");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->retry);
  EXPECT_EQ(p->delay, 250ms);
  p = parse_retry_pushback("0");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->retry);
  EXPECT_EQ(p->delay, 0ms);
  p = parse_retry_pushback("9999999999");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->delay, 9999999999ms);
}

TEST(RetryPushback, NegativeOrMalformedMeansDoNotRetry) {
  for (const char* value : {"-1", "", " 5", "5 ", "1.5", "+3", "12ab", "99999999999"}) {
    auto p = parse_retry_pushback(std::string_view(value));
    ASSERT_TRUE(p) << value;
    EXPECT_FALSE(p->retry) << value;
  }
}

}  // namespace
}  // namespace sluice::wire
