#include "tund/util/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace tund::util {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, BurstThenSteadyRatePerSource) {
  RateLimiter limiter(10, 5);
  auto t = RateLimiter::Clock::time_point{} + 1h;
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limiter.allow("198.18.0.9", t);
  EXPECT_EQ(allowed, 5);
  EXPECT_TRUE(limiter.allow("198.18.0.10", t)) << "another source has its own bucket";
  EXPECT_FALSE(limiter.allow("198.18.0.9", t + 50ms));
  EXPECT_TRUE(limiter.allow("198.18.0.9", t + 100ms));
}

TEST(RateLimiter, TableStaysBounded) {
  RateLimiter limiter(1, 1, 100);
  auto t = RateLimiter::Clock::time_point{} + 1h;
  for (int i = 0; i < 10000; ++i) limiter.allow("src" + std::to_string(i), t);
  EXPECT_TRUE(limiter.allow("fresh", t));
}

}  // namespace
}  // namespace tund::util
