#include "tund/crypto/replay_window.hpp"

#include <gtest/gtest.h>

namespace tund::crypto {
namespace {

constexpr std::uint64_t W = ReplayWindow::kWindow;

TEST(ReplayWindow, CoversAtLeast2048Counters) {
  EXPECT_GE(W, 2048u);
}

TEST(ReplayWindow, AcceptsEachCounterOnceInAnyOrder) {
  ReplayWindow w;
  for (std::uint64_t c : {5u, 1u, 3u, 2u, 4u, 0u}) EXPECT_TRUE(w.accept(c)) << c;
  for (std::uint64_t c = 0; c <= 5; ++c) EXPECT_FALSE(w.accept(c)) << c;
}

TEST(ReplayWindow, EdgeOfTheWindow) {
  ReplayWindow w;
  ASSERT_TRUE(w.accept(10000));
  EXPECT_TRUE(w.may_accept(10000 - W + 1));  // exactly at the edge: still inside
  EXPECT_TRUE(w.accept(10000 - W + 1));
  EXPECT_FALSE(w.may_accept(10000 - W));  // just outside
  EXPECT_FALSE(w.accept(10000 - W));
}

TEST(ReplayWindow, FarAheadJumpForgetsTheOldWindow) {
  ReplayWindow w;
  for (std::uint64_t c = 0; c < 100; ++c) ASSERT_TRUE(w.accept(c));
  ASSERT_TRUE(w.accept(1'000'000));
  EXPECT_FALSE(w.accept(50));             // far behind now
  EXPECT_TRUE(w.accept(1'000'000 - 10));  // recent ones still accepted once
  EXPECT_FALSE(w.accept(1'000'000 - 10));
}

TEST(ReplayWindow, RingWrapsAroundManyTimes) {
  ReplayWindow w;
  // Every other counter over 20 windows' worth, then the skipped ones within reach.
  for (std::uint64_t c = 0; c < 20 * W; c += 2) ASSERT_TRUE(w.accept(c)) << c;
  std::uint64_t top = 20 * W - 2;
  for (std::uint64_t c = top - W + 1; c < top; ++c) {
    if (c % 2 == 1)
      EXPECT_TRUE(w.accept(c)) << c;
    else
      EXPECT_FALSE(w.accept(c)) << c;
  }
}

TEST(ReplayWindow, HugeCountersNearTheTopOfTheRange) {
  ReplayWindow w;
  std::uint64_t top = ~std::uint64_t{0} - 1;
  EXPECT_TRUE(w.accept(top - 5));
  EXPECT_TRUE(w.accept(top));
  EXPECT_TRUE(w.accept(top - 3));
  EXPECT_FALSE(w.accept(top - 5));
}

TEST(ReplayWindow, StreamModeRequiresStrictlyIncreasingCounters) {
  ReplayWindow w(true);
  EXPECT_TRUE(w.accept(0));
  EXPECT_TRUE(w.accept(1));
  EXPECT_TRUE(w.accept(5));
  EXPECT_FALSE(w.accept(4));
  EXPECT_FALSE(w.accept(5));
  EXPECT_TRUE(w.accept(6));
}

}  // namespace
}  // namespace tund::crypto
