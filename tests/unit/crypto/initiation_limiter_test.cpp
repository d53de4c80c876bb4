// The responder's initiation budget (crypto/initiation_limiter.hpp), with explicit times:
// one address may use the whole global budget while the server is not under load; a flood
// beyond it puts the server under load, where each source is limited and the others still
// get their share.
#include "tund/crypto/initiation_limiter.hpp"

#include <gtest/gtest.h>

#include "tund/proto/timers.hpp"

namespace tund::crypto {
namespace {

using namespace std::chrono_literals;

const Time kStart = Time{} + 1000h;

// Sends `count` initiations from `source` evenly over `span` from `from`; returns how many
// were allowed.
int spread(InitiationLimiter& limiter, const std::string& source, int count, Time from,
           std::chrono::nanoseconds span) {
  int allowed = 0;
  for (int i = 0; i < count; ++i) allowed += limiter.allow(source, from + span * i / count) ? 1 : 0;
  return allowed;
}

TEST(InitiationLimiter, AThousandClientsBehindOneAddressAllPassWhenNotUnderLoad) {
  InitiationLimiter limiter;
  EXPECT_EQ(spread(limiter, "192.0.2.1", 1000, kStart, 3s), 1000);
  EXPECT_FALSE(limiter.under_load(kStart + 3s));
}

TEST(InitiationLimiter, AThousandAtTheSameInstantAllPass) {
  InitiationLimiter limiter;
  EXPECT_EQ(spread(limiter, "192.0.2.1", 1000, kStart, 0s), 1000);
}

TEST(InitiationLimiter, TheGlobalBudgetHoldsForAnySpreadOfSources) {
  InitiationLimits limits = default_initiation_limits();
  InitiationLimiter limiter(limits);
  // 100000 sources, one initiation each, within one second: at most burst + one second's rate.
  int allowed = 0;
  for (int i = 0; i < 100000; ++i)
    allowed += limiter.allow("198.18." + std::to_string(i),
                             kStart + std::chrono::nanoseconds(1s) * i / 100000)
                   ? 1
                   : 0;
  EXPECT_LE(allowed, static_cast<int>(limits.burst + limits.per_second) + 1);
  EXPECT_GE(allowed, static_cast<int>(limits.burst));
}

TEST(InitiationLimiter, AFloodBeyondTheBudgetLimitsItsSourceAndOthersGetTheirShare) {
  InitiationLimits limits = default_initiation_limits();
  InitiationLimiter limiter(limits);
  auto burst = static_cast<int>(limits.burst);
  // An instant flood from one address: it is cut off at the under-load mark, not at zero.
  int flood = spread(limiter, "203.0.113.9", 2 * burst, kStart, 0s);
  EXPECT_TRUE(limiter.under_load(kStart));
  int ceiling =
      static_cast<int>(limits.burst * (1 - limits.under_load_fraction) + limits.per_source_burst) +
      1;
  EXPECT_LE(flood, ceiling);
  EXPECT_GE(flood, ceiling - static_cast<int>(limits.per_source_burst) - 1);
  // Under load, other addresses get their per-source share of what is left.
  auto share = static_cast<int>(limits.per_source_burst);
  for (int s = 0; s < 10; ++s)
    EXPECT_EQ(spread(limiter, "192.0.2." + std::to_string(s), share, kStart, 0s), share) << s;
  EXPECT_EQ(spread(limiter, "192.0.2.0", 1, kStart, 0s), 0) << "beyond its share";
}

TEST(InitiationLimiter, UnderLoadAnHonestSourceKeepsGettingThroughAFlood) {
  InitiationLimits limits = default_initiation_limits();
  InitiationLimiter limiter(limits);
  // For five seconds: the flood sends 20 times the global rate, an honest address sends
  // 10 per second (below its per-source rate).
  const int steps = 50000;
  const auto step = std::chrono::nanoseconds(5s) / steps;
  int honest = 0, honest_sent = 0, flood = 0;
  for (int i = 0; i < steps; ++i) {
    Time t = kStart + step * i;
    for (int k = 0; k < 2; ++k) flood += limiter.allow("203.0.113.9", t) ? 1 : 0;
    if (i % (steps / 50) == 0) {
      ++honest_sent;
      honest += limiter.allow("192.0.2.7", t) ? 1 : 0;
    }
  }
  EXPECT_EQ(honest, honest_sent);
  EXPECT_LE(flood, static_cast<int>(limits.burst + 5 * limits.per_second)) << "the global budget";
  EXPECT_LT(flood, steps * 2 / 10);
}

TEST(InitiationLimiter, LoadEndsAfterTheHoldOnceTheBucketRefilled) {
  InitiationLimits limits = default_initiation_limits();
  InitiationLimiter limiter(limits);
  spread(limiter, "203.0.113.9", static_cast<int>(limits.burst), kStart, 0s);
  ASSERT_TRUE(limiter.under_load(kStart));
  Time later = kStart + std::chrono::duration_cast<Clock::duration>(limits.hold) + 1ms;
  EXPECT_FALSE(limiter.under_load(later));
  // Refilled by then: one address may again send more than its per-source burst.
  int n = static_cast<int>(limits.per_source_burst) * 4;
  EXPECT_EQ(spread(limiter, "192.0.2.1", n, later, 0s), n);
}

TEST(InitiationLimiter, TheDefaultsBoundTheWorkAndFitAThousandClients) {
  InitiationLimits limits = default_initiation_limits();
  // Not a timing test: the figures in proto/timers.hpp must be consistent with each other.
  EXPECT_GE(limits.burst * (1 - limits.under_load_fraction), 1000.0);
  EXPECT_GE(limits.per_second, 1000.0 / 5);
  EXPECT_LT(limits.per_source_per_second, limits.per_second);
}

}  // namespace
}  // namespace tund::crypto
