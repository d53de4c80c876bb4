#include "tund/util/backoff.hpp"

#include <gtest/gtest.h>

namespace tund::util {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesUpToTheCapAtTheTopOfTheJitterRange) {
  Backoff b(milliseconds(250), milliseconds(5000), [] { return 0.999999; });
  std::vector<long> got;
  for (int i = 0; i < 8; ++i) got.push_back(b.next().count());
  EXPECT_EQ(got, (std::vector<long>{249, 499, 999, 1999, 3999, 4999, 4999, 4999}));
}

TEST(Backoff, JitterScalesIntoTheUpperHalf) {
  Backoff low(milliseconds(1000), milliseconds(1000), [] { return 0.0; });
  EXPECT_EQ(low.next().count(), 500);
  Backoff mid(milliseconds(1000), milliseconds(1000), [] { return 0.5; });
  EXPECT_EQ(mid.next().count(), 750);
}

TEST(Backoff, ResetStartsOver) {
  Backoff b(milliseconds(100), milliseconds(10000), [] { return 0.0; });
  b.next();
  b.next();
  b.next();
  EXPECT_EQ(b.attempts(), 3u);
  b.reset();
  EXPECT_EQ(b.next().count(), 50);
}

TEST(Backoff, ManyAttemptsNeverOverflow) {
  Backoff b(milliseconds(250), milliseconds(5000), [] { return 0.0; });
  for (int i = 0; i < 1000; ++i) EXPECT_LE(b.next().count(), 5000);
}

TEST(Backoff, SystemRandomStaysInRange) {
  auto r = system_random();
  for (int i = 0; i < 1000; ++i) {
    double v = r();
    EXPECT_GE(v, 0.0);
    EXPECT_LT(v, 1.0);
  }
}

}  // namespace
}  // namespace tund::util
