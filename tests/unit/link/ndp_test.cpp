// Neighbor Discovery for the IPv6 link address in TAP mode (RFC 4861): the advertisements
// byte for byte against scapy's (ipv6_vectors.hpp, see gen_ipv6_vectors.py), every check
// of 7.1.1 with a solicitation that fails only it, and what stays as it was: solicitations
// for other targets cross the tunnel, none for the link address ever does.
#include <gtest/gtest.h>

#include "ipv6_frames.hpp"
#include "ipv6_vectors.hpp"

namespace tund::link {
namespace {

using namespace testing;
using namespace std::chrono_literals;

constexpr std::size_t kL3 = 14, kIcmp = 54;

struct Ndp : ::testing::Test {
  Responder::Clock::time_point now = Responder::Clock::time_point{} + 1h;
  Responder r{config6(true)};
  void expect_ignored(const Bytes& frame, const char* what) {
    std::uint64_t before = r.stats().ignored_malformed;
    EXPECT_EQ(r.on_device_frame(bytes(frame), true, now), Decision::drop) << what;
    EXPECT_EQ(r.stats().ignored_malformed, before + 1) << what;
  }
  void expect_answered(const Bytes& frame, const char* what) {
    EXPECT_EQ(r.on_device_frame(bytes(frame), true, now), Decision::reply) << what;
  }
};

// Answered with the peer up as well as down: a solicitation for the link address never
// crosses the tunnel.
TEST_F(Ndp, SolicitedNodeMulticastAnsweredAtTheSourceLinkLayerAddress) {
  for (bool peer_up : {true, false}) {
    ASSERT_EQ(r.on_device_frame(bytes(hex(vectors::kNsMulticast)), peer_up, now), Decision::reply);
    EXPECT_EQ(reply_of(r), hex(vectors::kNaToSlla));
  }
  EXPECT_EQ(r.stats().neighbor_advertisements, 2u);
}

TEST_F(Ndp, UnicastProbeAnsweredAtTheFrameSource) {
  ASSERT_EQ(r.on_device_frame(bytes(hex(vectors::kNsUnicast)), true, now), Decision::reply);
  EXPECT_EQ(reply_of(r), hex(vectors::kNaToSender));
}

TEST_F(Ndp, DuplicateAddressDetectionAnsweredToAllNodes) {
  ASSERT_EQ(r.on_device_frame(bytes(hex(vectors::kNsDad)), true, now), Decision::reply);
  EXPECT_EQ(reply_of(r), hex(vectors::kNaDad));
}

TEST_F(Ndp, ValidationOfRfc4861Section711) {
  Bytes base = hex(vectors::kNsMulticast);
  expect_answered(base, "the control");
  Bytes hop_limit = base;
  hop_limit[kL3 + 7] = 254;  // routed: not from the link
  expect_ignored(hop_limit, "hop limit 254");
  Bytes bad_sum = base;
  bad_sum[kIcmp + 3] ^= 1;
  expect_ignored(bad_sum, "bad checksum");
  Bytes code = base;
  code[kIcmp + 1] = 1;
  fix_up(code, kL3, kIcmp);
  expect_ignored(code, "code 1");
  Bytes zero_length = base;
  zero_length[kIcmp + 25] = 0;  // the option's length
  fix_up(zero_length, kL3, kIcmp);
  expect_ignored(zero_length, "an option of length 0");
  Bytes past_end = base;
  past_end[kIcmp + 25] = 2;  // 16 bytes, 8 there
  fix_up(past_end, kL3, kIcmp);
  expect_ignored(past_end, "an option past the end");
  Bytes odd_tail = base;
  odd_tail.push_back(1);  // one byte after the last option: no room for its length
  fix_up(odd_tail, kL3, kIcmp);
  expect_ignored(odd_tail, "a one-byte option");
  Bytes long_slla = base;
  long_slla[kIcmp + 25] = 2;
  long_slla.resize(long_slla.size() + 8, 0);
  fix_up(long_slla, kL3, kIcmp);
  expect_ignored(long_slla, "a 16-byte source link-layer address on Ethernet");
  Bytes group_slla = base;
  group_slla[kIcmp + 26] = 0x03;
  fix_up(group_slla, kL3, kIcmp);
  expect_ignored(group_slla, "a group MAC as source link-layer address");
  Bytes unknown_option = base;
  unknown_option.insert(unknown_option.end(), {0x0e, 0x01, 0, 0, 0, 0, 0, 0});
  fix_up(unknown_option, kL3, kIcmp);
  expect_answered(unknown_option, "an unknown option is skipped (RFC 4861 4.6)");
  EXPECT_EQ(r.stats().neighbor_advertisements, 2u);
}

TEST_F(Ndp, ShortSolicitationIsNotAnswered) {
  Bytes unicast = hex(vectors::kNsUnicast);
  unicast.resize(kIcmp + 20);  // 20 bytes: no room for the whole target
  fix_up(unicast, kL3, kIcmp);
  expect_ignored(unicast, "20-byte solicitation to the link address");
}

TEST_F(Ndp, DadRules) {
  Bytes with_slla = hex(vectors::kNsDad);
  with_slla.insert(with_slla.end(), {0x01, 0x01, 0x02, 0, 0, 0, 0, 0xbb});
  fix_up(with_slla, kL3, kIcmp);
  expect_ignored(with_slla, "from :: with a source link-layer address");
  Bytes to_unicast = hex(vectors::kNsUnicast);
  std::fill(to_unicast.begin() + kL3 + 8, to_unicast.begin() + kL3 + 24, 0);  // from ::
  fix_up(to_unicast, kL3, kIcmp);
  expect_ignored(to_unicast, "from :: to the unicast address");
}

TEST_F(Ndp, NotAnsweredFromOrToTheWrongPlaces) {
  Bytes base = hex(vectors::kNsMulticast);
  Bytes group_source = base;
  group_source[kL3 + 8] = 0xff, group_source[kL3 + 9] = 0x02;
  fix_up(group_source, kL3, kIcmp);
  expect_ignored(group_source, "from a multicast address");
  Bytes group_mac = base;
  group_mac[6] = 0x03;
  expect_ignored(group_mac, "from a group MAC");
  Bytes wrong_mac = base;
  wrong_mac[5] = 0x02;  // 33:33:ff:00:00:02 is not the group's MAC
  expect_ignored(wrong_mac, "to the group at another group's MAC");
  Bytes all_nodes = base;  // to ff02::1: neither the solicited-node group nor the address
  std::copy_n(hex("ff020000000000000000000000000001").begin(), 16, all_nodes.begin() + kL3 + 24);
  std::copy_n(hex("333300000001").begin(), 6, all_nodes.begin());
  fix_up(all_nodes, kL3, kIcmp);
  expect_ignored(all_nodes, "to all nodes");
  Bytes atomic = insert(base, kIcmp, hex("3a00000000000000"));
  atomic[kL3 + 6] = 44;
  fix_up(atomic, kL3, kIcmp + 8);
  expect_ignored(atomic, "in a fragment (RFC 6980), even an atomic one");
}

// Another target is not ours: it crosses while the peer is up (the far side may answer),
// even when its solicited-node group is the link address's (same last 24 bits).
TEST_F(Ndp, OtherTargetsAreForwarded) {
  Bytes other = hex(vectors::kNsMulticast);
  other[kIcmp + 8 + 1] = 0x01;  // target fd01::1, same group ff02::1:ff00:1
  fix_up(other, kL3, kIcmp);
  EXPECT_EQ(r.on_device_frame(bytes(other), true, now), Decision::forward);
  EXPECT_EQ(r.on_device_frame(bytes(other), false, now), Decision::drop);
  EXPECT_EQ(r.stats().neighbor_advertisements, 0u);
}

// TUN has no neighbour discovery: a solicitation to the link address is not answered (nor
// forwarded).
TEST_F(Ndp, NotInTunMode) {
  Responder tun(config6(false));
  Bytes unicast = hex(vectors::kNsUnicast);
  Bytes packet(unicast.begin() + kL3, unicast.end());
  EXPECT_EQ(tun.on_device_frame(bytes(packet), true, now), Decision::drop);
  EXPECT_EQ(tun.stats().neighbor_advertisements, 0u);
  EXPECT_EQ(tun.stats().ignored_malformed, 1u);
}

}  // namespace
}  // namespace tund::link
