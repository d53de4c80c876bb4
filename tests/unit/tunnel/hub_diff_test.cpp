// The reload diff of hub mode: peers matched by public key.
#include <gtest/gtest.h>

#include "tund/tunnel/hub.hpp"

namespace tund::tunnel {
namespace {

HubPeerSpec peer(const std::string& name, std::uint8_t key) {
  HubPeerSpec p;
  p.name = name;
  p.public_key[0] = std::byte{key};
  return p;
}

TEST(HubDiff, MatchesPeersByKeyNotByName) {
  std::vector<HubPeerSpec> now{peer("a", 1), peer("b", 2), peer("c", 3), peer("d", 4)};
  std::vector<HubPeerSpec> next{peer("a", 1), peer("b-renamed", 2), peer("c", 3), peer("e", 5)};
  next[2].keepalive = std::chrono::seconds(5);
  auto changes = diff_hub(now, next);
  EXPECT_EQ(changes.added, std::vector<std::string>{"e"});
  EXPECT_EQ(changes.removed, std::vector<std::string>{"d"});
  EXPECT_EQ(changes.changed, (std::vector<std::string>{"b-renamed", "c"}));
  EXPECT_EQ(changes.unchanged, 1u);
  EXPECT_EQ(describe(changes, next.size()),
            "4 peers; added e; removed d; changed b-renamed, c; 1 unchanged");
}

TEST(HubDiff, AnyFieldChangeCountsAndNoChangeIsEmpty) {
  std::vector<HubPeerSpec> now{peer("a", 1)};
  EXPECT_TRUE(diff_hub(now, now).empty());
  auto psk = now;
  psk[0].psk = crypto::Key{};
  EXPECT_EQ(diff_hub(now, psk).changed.size(), 1u);
  auto ips = now;
  ips[0].allowed_ips.push_back(util::IpPrefix{});
  EXPECT_EQ(diff_hub(now, ips).changed.size(), 1u);
  EXPECT_EQ(diff_hub({}, now).added.size(), 1u);
  EXPECT_EQ(diff_hub(now, {}).removed.size(), 1u);
}

}  // namespace
}  // namespace tund::tunnel
