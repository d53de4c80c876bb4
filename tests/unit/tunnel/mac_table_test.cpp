#include "tund/tunnel/mac_table.hpp"

#include <gtest/gtest.h>

#include <array>

#include "tund/proto/timers.hpp"

namespace tund::tunnel {
namespace {

using Mac = std::array<std::byte, 6>;
using std::chrono::seconds;

const util::Clock::time_point t0{};  // explicit times only: nothing here reads a clock

// A locally administered unicast MAC 02:00:00:00:hi:lo.
Mac host(unsigned n) {
  return {std::byte{0x02}, std::byte{0},      std::byte{0},
          std::byte{0},    std::byte(n >> 8), std::byte(n & 0xff)};
}
const Mac broadcast{std::byte{0xff}, std::byte{0xff}, std::byte{0xff},
                    std::byte{0xff}, std::byte{0xff}, std::byte{0xff}};
const Mac ipv6_multicast{std::byte{0x33}, std::byte{0x33}, std::byte{0},
                         std::byte{0},    std::byte{0},    std::byte{1}};

TEST(MacTable, LearnsASourceAndFindsItsPort) {
  MacTable table;
  EXPECT_EQ(table.lookup(host(1), t0), std::nullopt);
  EXPECT_EQ(table.learn(host(1), 4, t0), Learned::added);
  EXPECT_EQ(table.lookup(host(1), t0), 4u);
  EXPECT_EQ(table.lookup(host(2), t0), std::nullopt);
  EXPECT_EQ(table.learn(host(1), 4, t0 + seconds(1)), Learned::refreshed);
  EXPECT_EQ(table.size(), 1u);
}

TEST(MacTable, RefusesGroupAndZeroSources) {
  MacTable table;
  EXPECT_EQ(table.learn(broadcast, 1, t0), Learned::refused);
  EXPECT_EQ(table.learn(ipv6_multicast, 1, t0), Learned::refused);
  EXPECT_EQ(table.learn(Mac{}, 1, t0), Learned::refused);
  EXPECT_EQ(table.size(), 0u);
}

TEST(MacTable, AMacMovesToItsNewestSender) {
  MacTable table;
  table.learn(host(1), 1, t0);
  EXPECT_EQ(table.learn(host(1), 2, t0 + seconds(1)), Learned::moved);
  EXPECT_EQ(table.lookup(host(1), t0 + seconds(1)), 2u);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.forget_port(1), 0u) << "the old port no longer holds it";
  EXPECT_EQ(table.forget_port(2), 1u);
}

TEST(MacTable, EntriesAgeOutUnlessSeenAgain) {
  MacTable table;
  table.learn(host(1), 1, t0);
  table.learn(host(2), 1, t0);
  const auto almost = t0 + proto::kMacAgeing - seconds(1);
  EXPECT_EQ(table.lookup(host(1), almost), 1u);
  table.learn(host(2), 1, almost);  // seen again: its age starts over
  const auto later = t0 + proto::kMacAgeing;
  EXPECT_EQ(table.lookup(host(1), later), std::nullopt);
  EXPECT_EQ(table.lookup(host(2), later), 1u);
  EXPECT_EQ(table.expire(later), 1u);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.lookup(host(2), almost + proto::kMacAgeing), std::nullopt);
}

TEST(MacTable, AnExpiredMacIsLearnedAfreshWhereverItAppears) {
  MacTable table;
  table.learn(host(1), 1, t0);
  const auto later = t0 + proto::kMacAgeing;
  EXPECT_EQ(table.learn(host(1), 2, later), Learned::added);
  EXPECT_EQ(table.lookup(host(1), later), 2u);
  EXPECT_EQ(table.size(), 1u);
}

TEST(MacTable, APortHoldsAtMostTheCapAndEvictsItsLeastRecentlySeen) {
  MacTable table;
  const auto n = static_cast<unsigned>(proto::kMacsPerPort);
  for (unsigned i = 0; i < n; ++i) table.learn(host(i), 1, t0 + seconds(i));
  table.learn(host(5000), 2, t0);            // another port is not affected by port 1's cap
  table.learn(host(0), 1, t0 + seconds(n));  // refreshed: now host(1) is the oldest
  EXPECT_EQ(table.size(), n + 1);
  EXPECT_EQ(table.learn(host(1000), 1, t0 + seconds(n + 1)), Learned::added);
  EXPECT_EQ(table.size(), n + 1);
  EXPECT_EQ(table.lookup(host(1), t0 + seconds(n + 1)), std::nullopt) << "evicted";
  EXPECT_EQ(table.lookup(host(0), t0 + seconds(n + 1)), 1u);
  EXPECT_EQ(table.lookup(host(1000), t0 + seconds(n + 1)), 1u);
  table.learn(host(1001), 1, t0 + seconds(n + 2));
  EXPECT_EQ(table.lookup(host(2), t0 + seconds(n + 2)), std::nullopt) << "next oldest";
  EXPECT_EQ(table.lookup(host(3), t0 + seconds(n + 2)), 1u);
}

TEST(MacTable, AMacMovingIntoAFullPortEvictsThatPortsOldest) {
  MacTable table;
  const auto n = static_cast<unsigned>(proto::kMacsPerPort);
  for (unsigned i = 0; i < n; ++i) table.learn(host(i), 1, t0 + seconds(i));
  table.learn(host(5000), 2, t0);
  EXPECT_EQ(table.learn(host(5000), 1, t0 + seconds(n)), Learned::moved);
  EXPECT_EQ(table.lookup(host(0), t0 + seconds(n)), std::nullopt);
  EXPECT_EQ(table.lookup(host(5000), t0 + seconds(n)), 1u);
  EXPECT_EQ(table.size(), n);
  EXPECT_EQ(table.forget_port(2), 0u);
}

TEST(MacTable, ForgetPortRemovesOnlyThatPort) {
  MacTable table;
  table.learn(host(1), 1, t0);
  table.learn(host(2), 1, t0);
  table.learn(host(3), 2, t0);
  EXPECT_EQ(table.forget_port(1), 2u);
  EXPECT_EQ(table.forget_port(1), 0u);
  EXPECT_EQ(table.lookup(host(1), t0), std::nullopt);
  EXPECT_EQ(table.lookup(host(3), t0), 2u);
  EXPECT_EQ(table.learn(host(1), 1, t0), Learned::added) << "the port can learn again";
}

TEST(MacTable, BroadcastMulticastAndUnknownUnicastFloodToAllButTheIngress) {
  MacTable table;
  table.learn(host(1), 1, t0);
  for (const Mac& destination : {broadcast, ipv6_multicast, host(2)}) {
    const Forward f = forward(table, destination, 3, t0);
    EXPECT_EQ(f.kind, Forward::Kind::flood);
    EXPECT_TRUE(f.sends_to(0));
    EXPECT_TRUE(f.sends_to(1));
    EXPECT_FALSE(f.sends_to(3)) << "never back where it came from";
  }
}

TEST(MacTable, KnownUnicastGoesToItsPortOnly) {
  MacTable table;
  table.learn(host(1), 1, t0);
  const Forward f = forward(table, host(1), 3, t0);
  EXPECT_EQ(f.kind, Forward::Kind::one_port);
  EXPECT_TRUE(f.sends_to(1));
  EXPECT_FALSE(f.sends_to(0));
  EXPECT_FALSE(f.sends_to(3));
}

TEST(MacTable, UnicastToTheIngressPortIsDropped) {
  MacTable table;
  table.learn(host(1), 1, t0);
  const Forward f = forward(table, host(1), 1, t0);
  EXPECT_EQ(f.kind, Forward::Kind::drop);
  EXPECT_FALSE(f.sends_to(1));
  EXPECT_FALSE(f.sends_to(2));
}

TEST(MacTable, AnExpiredDestinationIsFloodedAgain) {
  MacTable table;
  table.learn(host(1), 1, t0);
  const Forward f = forward(table, host(1), 3, t0 + proto::kMacAgeing);
  EXPECT_EQ(f.kind, Forward::Kind::flood);
  EXPECT_TRUE(f.sends_to(2));
}

}  // namespace
}  // namespace tund::tunnel
