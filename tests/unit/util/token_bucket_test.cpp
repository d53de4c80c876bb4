#include "tund/util/token_bucket.hpp"

#include <gtest/gtest.h>

namespace tund::util {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucket, StartsFullThenRefillsAtItsRateUpToTheBurst) {
  TokenBucket bucket(10, 3);
  auto t = TokenBucket::Clock::time_point{} + 1h;
  int allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += bucket.allow(t);
  EXPECT_EQ(allowed, 3) << "a full bucket: the burst";
  EXPECT_EQ(bucket.last(), t);
  EXPECT_FALSE(bucket.allow(t + 50ms)) << "half a token is not one";
  EXPECT_TRUE(bucket.allow(t + 100ms)) << "two halves make one";
  allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += bucket.allow(t + 1h);
  EXPECT_EQ(allowed, 3) << "a long pause refills only up to the burst";
}

TEST(TokenBucket, TheFirstCallAtTheClocksEpochFindsItFull) {
  TokenBucket bucket(1, 1);  // the responder's fuzz target starts at time_point{}
  EXPECT_TRUE(bucket.allow(TokenBucket::Clock::time_point{}));
  EXPECT_FALSE(bucket.allow(TokenBucket::Clock::time_point{}));
}

}  // namespace
}  // namespace tund::util
