#include "tund/tunnel/allowed_ips.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace tund::tunnel {
namespace {

using Bytes = std::vector<std::byte>;

Bytes v4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return {std::byte(a), std::byte(b), std::byte(c), std::byte(d)};
}
// An IPv6 address whose first two bytes are `first`, last byte `last`, zeros between.
Bytes v6(unsigned first, unsigned last = 0) {
  Bytes out(16, std::byte{0});
  out[0] = std::byte(first >> 8);
  out[1] = std::byte(first & 0xff);
  out[15] = std::byte(last);
  return out;
}

// The oracle: every prefix kept as given, tested bit by bit, the longest containing one
// wins. Written without masks or hashing so it shares no mistake with the table.
struct OracleEntry {
  IpFamily family;
  Bytes address;
  unsigned length;
  PeerId peer;
};

bool bit(const Bytes& address, unsigned i) {
  return (std::to_integer<unsigned>(address[i / 8]) >> (7 - i % 8)) & 1u;
}

bool contains(const OracleEntry& e, IpFamily family, const Bytes& address) {
  if (e.family != family) return false;
  for (unsigned i = 0; i < e.length; ++i) {
    if (bit(e.address, i) != bit(address, i)) return false;
  }
  return true;
}

bool same_prefix(const OracleEntry& a, const OracleEntry& b) {
  return a.family == b.family && a.length == b.length && contains(a, b.family, b.address);
}

class Oracle {
 public:
  void insert(const OracleEntry& e) {
    for (auto& old : entries_) {
      if (same_prefix(old, e)) {
        old.peer = e.peer;
        return;
      }
    }
    entries_.push_back(e);
  }
  void remove_peer(PeerId peer) {
    std::erase_if(entries_, [&](auto& e) { return e.peer == peer; });
  }
  std::optional<PeerId> lookup(IpFamily family, const Bytes& address) const {
    const OracleEntry* best = nullptr;
    for (const auto& e : entries_) {
      if (contains(e, family, address) && (!best || e.length > best->length)) best = &e;
    }
    return best ? std::optional<PeerId>(best->peer) : std::nullopt;
  }
  std::size_t size() const { return entries_.size(); }
  const std::vector<OracleEntry>& entries() const { return entries_; }

 private:
  std::vector<OracleEntry> entries_;
};

class AllowedIpsOracle : public ::testing::Test {
 protected:
  std::mt19937 rng{20261130};  // fixed: a failure reproduces
  unsigned pick(unsigned low, unsigned high) {
    return std::uniform_int_distribution<unsigned>(low, high)(rng);
  }
  // Addresses drawn near a few bases, so prefixes overlap and nest instead of scattering
  // over a space too large for any of them to meet.
  Bytes address(IpFamily family, bool uniform = false) {
    Bytes out(address_size(family));
    const unsigned base = pick(0, 3);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const bool shared = !uniform && i < out.size() / 2 && pick(0, 9) != 0;
      out[i] = std::byte(shared ? (base * 37 + i) & 0xff : pick(0, 255));
    }
    return out;
  }
  // An address inside `e` (its network bits, random host bits).
  Bytes inside(const OracleEntry& e) {
    Bytes out = address(e.family);
    for (unsigned i = 0; i < e.length; ++i) {
      const auto mask = std::byte(0x80u >> (i % 8));
      out[i / 8] = bit(e.address, i) ? (out[i / 8] | mask) : (out[i / 8] & ~mask);
    }
    return out;
  }
  OracleEntry random_prefix(IpFamily family) {
    const unsigned max = max_prefix_length(family);
    // Mostly long prefixes, as allowed-ips are, but every length appears.
    const unsigned length = pick(0, 4) == 0 ? pick(max / 8, max) : pick(max * 3 / 4, max);
    return {family, address(family), length, pick(1, 20)};
  }
  void compare(IpFamily family, const AllowedIps& table, const Oracle& oracle) {
    for (int i = 0; i < 4000; ++i) {
      const unsigned kind = pick(0, 3);
      const Bytes a = kind < 2 && oracle.size() != 0
                          ? inside(oracle.entries()[pick(0, unsigned(oracle.size() - 1))])
                          : address(family, kind == 3);
      const auto expected = oracle.lookup(family, a);
      ASSERT_EQ(table.lookup(family, a), expected) << "lookup " << i;
      ++(expected ? hits_ : misses_);
    }
  }
  std::size_t hits_ = 0, misses_ = 0;
  void run(IpFamily family) {
    AllowedIps table;
    Oracle oracle;
    for (int round = 0; round < 5; ++round) {
      for (int i = 0; i < 300; ++i) {
        const auto e = random_prefix(family);
        ASSERT_TRUE(table.insert(family, e.address, e.length, e.peer));
        oracle.insert(e);
      }
      ASSERT_EQ(table.size(), oracle.size());
      compare(family, table, oracle);
      const PeerId gone = pick(1, 20);
      table.remove_peer(gone);
      oracle.remove_peer(gone);
      ASSERT_EQ(table.size(), oracle.size());
      compare(family, table, oracle);
    }
    // Both outcomes must be exercised often, or the comparison proved little.
    EXPECT_GT(hits_, 10000u);
    EXPECT_GT(misses_, 1000u);
  }
};

TEST_F(AllowedIpsOracle, AllowedIpsMatchesTheOracleForIpv4) {
  run(IpFamily::v4);
}
TEST_F(AllowedIpsOracle, AllowedIpsMatchesTheOracleForIpv6) {
  run(IpFamily::v6);
}

TEST(AllowedIps, EmptyTableFindsNothing) {
  AllowedIps table;
  EXPECT_EQ(table.lookup(IpFamily::v4, v4(10, 0, 0, 1)), std::nullopt);
  EXPECT_EQ(table.lookup(IpFamily::v6, v6(0xfd00)), std::nullopt);
  EXPECT_EQ(table.size(), 0u);
}

TEST(AllowedIps, DefaultRouteCatchesEverythingOfItsFamilyOnly) {
  AllowedIps table;
  ASSERT_TRUE(table.insert(IpFamily::v4, v4(0, 0, 0, 0), 0, 7));
  EXPECT_EQ(table.lookup(IpFamily::v4, v4(1, 2, 3, 4)), 7u);
  EXPECT_EQ(table.lookup(IpFamily::v4, v4(255, 255, 255, 255)), 7u);
  EXPECT_EQ(table.lookup(IpFamily::v6, v6(0x2001)), std::nullopt);
  ASSERT_TRUE(table.insert(IpFamily::v6, v6(0), 0, 8));
  EXPECT_EQ(table.lookup(IpFamily::v6, v6(0x2001, 1)), 8u);
}

TEST(AllowedIps, HostRoutesMatchOnlyTheirAddress) {
  AllowedIps table;
  ASSERT_TRUE(table.insert(IpFamily::v4, v4(10, 8, 0, 2), 32, 1));
  ASSERT_TRUE(table.insert(IpFamily::v6, v6(0xfd00, 2), 128, 2));
  EXPECT_EQ(table.lookup(IpFamily::v4, v4(10, 8, 0, 2)), 1u);
  EXPECT_EQ(table.lookup(IpFamily::v4, v4(10, 8, 0, 3)), std::nullopt);
  EXPECT_EQ(table.lookup(IpFamily::v6, v6(0xfd00, 2)), 2u);
  EXPECT_EQ(table.lookup(IpFamily::v6, v6(0xfd00, 3)), std::nullopt);
}

TEST(AllowedIps, LongestOverlappingPrefixWins) {
  AllowedIps table;
  ASSERT_TRUE(table.insert(IpFamily::v4, v4(10, 0, 0, 0), 8, 1));
  ASSERT_TRUE(table.insert(IpFamily::v4, v4(10, 8, 0, 0), 16, 2));
  ASSERT_TRUE(table.insert(IpFamily::v4, v4(10, 8, 0, 2), 32, 3));
  EXPECT_EQ(table.lookup(IpFamily::v4, v4(10, 8, 0, 2)), 3u);
  EXPECT_EQ(table.lookup(IpFamily::v4, v4(10, 8, 9, 9)), 2u);
  EXPECT_EQ(table.lookup(IpFamily::v4, v4(10, 9, 0, 2)), 1u);
  EXPECT_EQ(table.lookup(IpFamily::v4, v4(11, 8, 0, 2)), std::nullopt);
}

TEST(AllowedIps, HostBitsAreClearedSoTheSamePrefixChangesOwner) {
  AllowedIps table;
  ASSERT_TRUE(table.insert(IpFamily::v4, v4(192, 168, 1, 77), 24, 1));
  ASSERT_TRUE(table.insert(IpFamily::v4, v4(192, 168, 1, 0), 24, 2));
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.lookup(IpFamily::v4, v4(192, 168, 1, 200)), 2u);
  EXPECT_TRUE(table.prefixes_of(1).empty());
  const auto owned = table.prefixes_of(2);
  ASSERT_EQ(owned.size(), 1u);
  EXPECT_EQ(owned[0].length, 24u);
  EXPECT_EQ(Bytes(owned[0].address.begin(), owned[0].address.begin() + 4), v4(192, 168, 1, 0));
}

TEST(AllowedIps, RemovePeerRemovesAllItsPrefixesAndUncoversShorterOnes) {
  AllowedIps table;
  ASSERT_TRUE(table.insert(IpFamily::v4, v4(10, 0, 0, 0), 8, 1));
  ASSERT_TRUE(table.insert(IpFamily::v4, v4(10, 8, 0, 2), 32, 2));
  ASSERT_TRUE(table.insert(IpFamily::v6, v6(0xfd00, 2), 128, 2));
  EXPECT_EQ(table.remove_peer(2), 2u);
  EXPECT_EQ(table.remove_peer(2), 0u);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.lookup(IpFamily::v4, v4(10, 8, 0, 2)), 1u);
  EXPECT_EQ(table.lookup(IpFamily::v6, v6(0xfd00, 2)), std::nullopt);
}

TEST(AllowedIps, PrefixesOfListsIpv4FirstThenByAddress) {
  AllowedIps table;
  ASSERT_TRUE(table.insert(IpFamily::v6, v6(0xfd00), 64, 5));
  ASSERT_TRUE(table.insert(IpFamily::v4, v4(10, 8, 0, 9), 32, 5));
  ASSERT_TRUE(table.insert(IpFamily::v4, v4(10, 8, 0, 2), 32, 5));
  ASSERT_TRUE(table.insert(IpFamily::v4, v4(10, 8, 0, 3), 32, 6));
  const auto owned = table.prefixes_of(5);
  ASSERT_EQ(owned.size(), 3u);
  EXPECT_EQ(owned[0].address[3], std::byte{2});
  EXPECT_EQ(owned[1].address[3], std::byte{9});
  EXPECT_EQ(owned[2].family, IpFamily::v6);
  // Round trip: what prefixes_of returns can be inserted again unchanged.
  AllowedIps copy;
  for (const auto& p : owned) ASSERT_TRUE(copy.insert(p, 5));
  EXPECT_EQ(copy.prefixes_of(5), owned);
}

TEST(AllowedIps, RefusesMalformedPrefixesAndAddresses) {
  AllowedIps table;
  EXPECT_FALSE(table.insert(IpFamily::v4, v4(10, 0, 0, 0), 33, 1));
  EXPECT_FALSE(table.insert(IpFamily::v6, v6(0xfd00), 129, 1));
  EXPECT_FALSE(table.insert(IpFamily::v6, v4(10, 0, 0, 0), 8, 1)) << "4 bytes as IPv6";
  EXPECT_EQ(table.size(), 0u);
  ASSERT_TRUE(table.insert(IpFamily::v4, v4(0, 0, 0, 0), 0, 1));
  EXPECT_EQ(table.lookup(IpFamily::v4, v6(0)), std::nullopt) << "16 bytes as IPv4";
}

}  // namespace
}  // namespace tund::tunnel
