// ICMPv6 errors with the extension-header chain walked (RFC 8200 4, RFC 7045, RFC 4443
// 2.4(e)): the replies byte for byte against scapy's (ipv6_vectors.hpp, made by
// gen_ipv6_vectors.py), and no error about an ICMPv6 error behind extension headers, a
// later fragment, or a chain that is truncated or not understood. The walker alone too.
#include <gtest/gtest.h>

#include "ipv6_frames.hpp"
#include "ipv6_vectors.hpp"
#include "tund/link/ipv6_chain.hpp"

namespace tund::link {
namespace {

using namespace testing;
using namespace std::chrono_literals;

struct Icmp6Errors : ::testing::Test {
  Responder::Clock::time_point now = Responder::Clock::time_point{} + 1h;
  Responder r{config6(false, 1280)};
  bool reported(const Bytes& packet) {
    return r.on_device_frame(bytes(packet), false, now) == Decision::reply;
  }
  // kUdp6ToFar with `header` (whose next-header byte the caller sets) after the IPv6 header.
  static Bytes with_header(std::uint8_t kind, const Bytes& header) {
    Bytes p = insert(hex(vectors::kUdp6ToFar), 40, header);
    p[6] = kind;
    put16(p, 4, p.size() - 40);
    return p;
  }
};

TEST_F(Icmp6Errors, AddressUnreachableFromTheLinkAddressMatchesScapy) {
  ASSERT_TRUE(reported(hex(vectors::kUdp6ToFar)));
  EXPECT_EQ(reply_of(r), hex(vectors::kUnreachableFromLink));
  ASSERT_TRUE(reported(hex(vectors::kUdp6BehindHopByHop)));
  EXPECT_EQ(reply_of(r), hex(vectors::kUnreachableBehindHopByHop));
  EXPECT_EQ(r.stats().unreachable_sent, 2u);
}

TEST_F(Icmp6Errors, PacketTooBigMatchesScapy) {
  ASSERT_EQ(r.on_device_frame(bytes(hex(vectors::kUdp6Of1300)), true, now), Decision::reply);
  EXPECT_EQ(reply_of(r), hex(vectors::kTooBigFromLink));
  EXPECT_EQ(r.stats().too_big_sent, 1u);
}

TEST_F(Icmp6Errors, NoneAboutAnIcmpErrorBehindExtensionHeaders) {
  Bytes error = with_header(0, hex("3a00010400000000"));  // hop-by-hop, then ICMPv6
  error[48] = 1;                                          // destination unreachable
  EXPECT_FALSE(reported(error));
  Bytes two = insert(error, 48, hex("3a00010400000000"));  // + destination options
  two[40] = 60;
  put16(two, 4, two.size() - 40);
  EXPECT_FALSE(reported(two));
  error[48] = 128;  // an echo request behind the same header: reported
  EXPECT_TRUE(reported(error));
  EXPECT_EQ(r.stats().errors_withheld, 2u);
}

TEST_F(Icmp6Errors, NoneAboutALaterFragmentOrAFirstFragmentOfAnError) {
  EXPECT_FALSE(reported(with_header(44, hex("1100010000000001")))) << "offset 32";
  EXPECT_TRUE(reported(with_header(44, hex("1100000100000001")))) << "first fragment of UDP";
  Bytes icmp_error = with_header(44, hex("3a00000100000001"));
  icmp_error[48] = 3;  // time exceeded, first fragment
  EXPECT_FALSE(reported(icmp_error));
}

TEST_F(Icmp6Errors, NoneAboutAChainTruncatedOrNotUnderstood) {
  EXPECT_TRUE(reported(with_header(60, hex("1100010400000000")))) << "the control";
  EXPECT_FALSE(reported(with_header(60, hex("1109010400000000")))) << "runs past the packet";
  EXPECT_FALSE(reported(with_header(50, hex("1100000000000000")))) << "ESP";
  EXPECT_FALSE(reported(with_header(135, hex("1100000000000000")))) << "mobility";
  EXPECT_FALSE(reported(with_header(254, hex("1100000000000000")))) << "experimental";
  Bytes hbh_second = insert(with_header(60, hex("0000010400000000")), 48, hex("1100010400000000"));
  put16(hbh_second, 4, hbh_second.size() - 40);
  EXPECT_FALSE(reported(hbh_second)) << "hop-by-hop not first";
  Bytes no_room = hex(vectors::kUdp6ToFar);
  no_room[6] = 58;  // ICMPv6 claimed, then a payload length of 0: the type cannot be read
  put16(no_room, 4, 0);
  EXPECT_FALSE(reported(no_room));
}

// TAP, RFC 4443 2.4(e.2), (e.3): no error about a frame sent to a group MAC (Packet Too
// Big excepted) or from one.
TEST_F(Icmp6Errors, TapLinkLayerGroupFrames) {
  Responder tap(config6(true, 1280));
  auto frame = [](const Mac& dst, const Mac& src, const Bytes& packet) {
    Bytes f(dst.begin(), dst.end());
    f.insert(f.end(), src.begin(), src.end());
    f.push_back(0x86), f.push_back(0xdd);
    f.insert(f.end(), packet.begin(), packet.end());
    return f;
  };
  const Mac group = {0x33, 0x33, 0, 0, 0, 9};
  Bytes udp = hex(vectors::kUdp6ToFar), big = hex(vectors::kUdp6Of1300);
  EXPECT_EQ(tap.on_device_frame(bytes(frame(kLinkMac, kHostMac, udp)), false, now),
            Decision::reply);
  EXPECT_EQ(tap.on_device_frame(bytes(frame(group, kHostMac, udp)), false, now), Decision::drop);
  EXPECT_EQ(tap.on_device_frame(bytes(frame(kLinkMac, group, udp)), false, now), Decision::drop);
  EXPECT_EQ(tap.on_device_frame(bytes(frame(group, kHostMac, big)), true, now), Decision::reply);
  EXPECT_EQ(tap.on_device_frame(bytes(frame(kLinkMac, group, big)), true, now), Decision::drop);
}

// ---- the walker alone -------------------------------------------------------------------

Ipv6Chain walk(const Bytes& packet) {
  return walk_ipv6_chain(bytes(packet));
}

TEST(Ipv6ChainWalk, FindsTheUpperLayerBehindEveryWalkedHeader) {
  Ipv6Chain plain = walk(hex(vectors::kUdp6ToFar));
  EXPECT_EQ(plain.end, Ipv6Chain::End::upper);
  EXPECT_EQ(plain.protocol, 17);
  EXPECT_EQ(plain.offset, 40u);
  Ipv6Chain ext = walk(hex(vectors::kEcho6BehindHeaders));
  EXPECT_EQ(ext.end, Ipv6Chain::End::upper);
  EXPECT_EQ(ext.protocol, 58);
  EXPECT_EQ(ext.offset, 64u);  // 40 + hop-by-hop 8 + destination options 8 + routing 8
  EXPECT_TRUE(ext.deliverable);
  EXPECT_FALSE(ext.fragment_header);
}

TEST(Ipv6ChainWalk, NeverReadsPastThePacket) {
  Bytes p = hex(vectors::kEcho6BehindHeaders);
  // Every prefix of the packet, its payload length still claiming the whole: the walk ends
  // as truncated (or earlier) and never reports an upper layer beyond what it was given.
  for (std::size_t size = 0; size < 64; ++size) {
    Bytes prefix(p.begin(), p.begin() + static_cast<long>(size));
    Ipv6Chain c = walk(prefix);
    EXPECT_EQ(c.end, Ipv6Chain::End::truncated) << size;
  }
  EXPECT_EQ(walk(Bytes(p.begin(), p.begin() + 64)).end, Ipv6Chain::End::upper);
  Bytes short_ah = hex(vectors::kUdp6ToFar);
  short_ah[6] = 51;
  short_ah[41] = 200;  // AH of 808 bytes in a 56-byte packet
  EXPECT_EQ(walk(short_ah).end, Ipv6Chain::End::truncated);
}

}  // namespace
}  // namespace tund::link
