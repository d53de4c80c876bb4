#include "tund/util/log.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace tund::util {
namespace {

TEST(Logger, FiltersByLevelAndFormatsArguments) {
  std::vector<std::string> lines;
  Logger log(LogLevel::info, [&](LogLevel, std::string_view t) { lines.emplace_back(t); });
  log.debug("hidden");
  log.info("port ", 55555, " up");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "port 55555 up");
}

TEST(LogLimiter, AllowsABurstPerWindowAndCountsTheRest) {
  LogLimiter limiter(3, std::chrono::seconds(10));
  auto t0 = LogLimiter::Clock::time_point{} + std::chrono::hours(1);
  unsigned long suppressed = 0;
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limiter.allow(t0, suppressed);
  EXPECT_EQ(allowed, 3);
  EXPECT_TRUE(limiter.allow(t0 + std::chrono::seconds(11), suppressed));
  EXPECT_EQ(suppressed, 97u);
}

}  // namespace
}  // namespace tund::util
