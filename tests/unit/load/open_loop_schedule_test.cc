// Open-loop pacing: due times are fixed by the rate alone, and shares of several senders
// interleave into the whole sequence.
#include "load/open_loop_schedule.h"

#include <gtest/gtest.h>

#include <set>

namespace sluice::load {
namespace {

using Clock = OpenLoopSchedule::Clock;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

const Clock::time_point kStart{std::chrono::seconds(1000)};

TEST(OpenLoopSchedule, CallsAreDueAtTheRate) {
  OpenLoopSchedule s(kStart, 1000);  // one per millisecond
  EXPECT_EQ(s.due(0), kStart);
  EXPECT_EQ(s.due(1), kStart + milliseconds(1));
  EXPECT_EQ(s.due(5000), kStart + milliseconds(5000));
  EXPECT_EQ(s.due_by(kStart - nanoseconds(1)), 0u);
  EXPECT_EQ(s.due_by(kStart), 1u);
  EXPECT_EQ(s.due_by(kStart + milliseconds(1) - nanoseconds(1)), 1u);
  EXPECT_EQ(s.due_by(kStart + milliseconds(1)), 2u);
  // A sender that stalled for a second finds a second's worth of calls due at once.
  EXPECT_EQ(s.due_by(kStart + milliseconds(1000)), 1001u);
}

TEST(OpenLoopSchedule, LongRunsDoNotDriftWithAnAwkwardRate) {
  OpenLoopSchedule s(kStart, 3);  // 333333333.33 ns apart
  const auto hour = kStart + std::chrono::hours(1);
  EXPECT_EQ(s.due_by(hour), 3u * 3600 + 1);
  EXPECT_LE(s.due(3 * 3600), hour);
  EXPECT_GT(s.due(3 * 3600 + 1), hour);
}

TEST(OpenLoopSchedule, DueByAgreesWithDueAtEveryDueTime) {
  OpenLoopSchedule s(kStart, 7'000);
  for (uint64_t n = 0; n < 20'000; ++n) {
    ASSERT_EQ(s.due_by(s.due(n)), n + 1) << n;
    ASSERT_EQ(s.due_by(s.due(n) - nanoseconds(1)), n) << n;
  }
}

TEST(OpenLoopSchedule, SendersShareTheRateWithoutOverlap) {
  // Three senders at 3000/s in total: together one call every 1/3000 s, each time once.
  std::multiset<int64_t> times;
  for (uint32_t i = 0; i < 3; ++i) {
    OpenLoopSchedule s(kStart, 3000, 3, i);
    for (uint64_t n = 0; n < 1000; ++n) times.insert((s.due(n) - kStart).count());
  }
  OpenLoopSchedule whole(kStart, 3000);
  uint64_t n = 0;
  for (int64_t t : times) {
    EXPECT_NEAR(static_cast<double>(t), static_cast<double>((whole.due(n) - kStart).count()), 1.0)
        << n;
    ++n;
  }
}

}  // namespace
}  // namespace sluice::load
