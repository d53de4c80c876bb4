// The link responder against byte vectors computed independently (a separate Python
// implementation of RFC 1071; see the hex below), plus every malformed case it must ignore.
#include "tund/link/responder.hpp"

#include <gtest/gtest.h>

#include "tund/link/checksum.hpp"

namespace tund::link {
namespace {

using Bytes = std::vector<std::uint8_t>;

// The test data is written as numbers; the responder and the checksum take bytes.
util::ConstByteSpan bytes(const Bytes& b) {
  return std::as_bytes(std::span(b));
}
using namespace std::chrono_literals;

Bytes hex(const std::string& h) {
  Bytes b;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    b.push_back(static_cast<std::uint8_t>(std::stoul(h.substr(i, 2), nullptr, 16)));
  return b;
}

// 10.0.0.2 -> 10.0.0.1 echo request, id 0x1234, seq 1, payload "tundping", and its reply.
const Bytes kEchoRequest =
    hex("45000024abcd400040017b090a0000020a000001080024201234000174756e6470696e67");
const Bytes kEchoReply =
    hex("45000024abcd400040017b090a0000010a00000200002c201234000174756e6470696e67");
// UDP 10.0.0.2:40000 -> 10.0.0.9:53 and the host-unreachable reply from 10.0.0.1.
const Bytes kUdp = hex("4500002401010000401165be0a0000020a0000099c400035001000007175657279212121");
const Bytes kUnreachable =
    hex("45c0004000000000400165fb0a0000010a0000020301ef4e00000000"
        "4500002401010000401165be0a0000020a0000099c400035001000007175657279212121");
// The first 36 bytes of the fragmentation-needed reply (MTU 1400) to a 1480-byte DF packet;
// its ICMP checksum (555a) covers the 548 quoted bytes, which are the packet's first 548.
const Bytes kFragNeededHead =
    hex("45c0024000000000400163fb0a0000010a0000020304555a00000578450005c80202400040111f19");

const Mac kLinkMac = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
const Mac kPeerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0xaa};

Bytes big_df_packet() {
  Bytes p = hex("450005c80202400040111f190a0000020a0000099c40003505b40000");
  p.resize(1480, 0);
  return p;
}

Bytes ethernet(const Mac& dst, const Mac& src, std::uint16_t type, const Bytes& payload) {
  Bytes f(dst.begin(), dst.end());
  f.insert(f.end(), src.begin(), src.end());
  f.push_back(static_cast<std::uint8_t>(type >> 8));
  f.push_back(static_cast<std::uint8_t>(type));
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

struct ResponderTest : ::testing::Test {
  Responder::Clock::time_point now = Responder::Clock::time_point{} + 1h;
  ResponderConfig config(bool tap) {
    ResponderConfig c;
    c.ethernet = tap;
    c.link_ip = Ipv4{10, 0, 0, 1};
    c.link_mac = kLinkMac;
    c.tunnel_mtu = 1400;
    return c;
  }
  Bytes reply_of(Responder& r) {
    Bytes out;
    for (std::byte b : r.reply()) out.push_back(std::to_integer<std::uint8_t>(b));
    return out;
  }
};

TEST_F(ResponderTest, ChecksumMatchesRfc1071Example) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2, checksum 220d.
  Bytes data = hex("0001f203f4f5f6f7");
  EXPECT_EQ(checksum(bytes(data)), 0x220d);
}

TEST_F(ResponderTest, EchoReplyInTunMode) {
  Responder r(config(false));
  ASSERT_EQ(r.on_device_frame(bytes(kEchoRequest), true, now), Decision::reply);
  EXPECT_EQ(reply_of(r), kEchoReply);
  // Answered locally whether or not the peer is up.
  ASSERT_EQ(r.on_device_frame(bytes(kEchoRequest), false, now), Decision::reply);
  EXPECT_EQ(reply_of(r), kEchoReply);
  EXPECT_EQ(r.stats().echo_replies, 2u);
}

TEST_F(ResponderTest, EchoReplyInTapMode) {
  Responder r(config(true));
  ASSERT_EQ(r.on_device_frame(bytes(ethernet(kLinkMac, kPeerMac, 0x0800, kEchoRequest)), true, now),
            Decision::reply);
  EXPECT_EQ(reply_of(r), ethernet(kPeerMac, kLinkMac, 0x0800, kEchoReply));
}

// An echo request to the link address of TOTAL bytes, checksums valid.
Bytes echo_request_of_size(std::size_t total) {
  Bytes p = kEchoRequest;
  p.resize(total, 0x5a);
  p[2] = static_cast<std::uint8_t>(total >> 8);
  p[3] = static_cast<std::uint8_t>(total);
  p[10] = p[11] = 0;
  std::uint16_t ip_sum = checksum(bytes(p).first(20));
  p[10] = static_cast<std::uint8_t>(ip_sum >> 8);
  p[11] = static_cast<std::uint8_t>(ip_sum);
  p[22] = p[23] = 0;
  std::uint16_t icmp_sum = checksum(bytes(p).subspan(20, total - 20));
  p[22] = static_cast<std::uint8_t>(icmp_sum >> 8);
  p[23] = static_cast<std::uint8_t>(icmp_sum);
  return p;
}

// A reply never exceeds the link MTU: a request the tunnel could not carry (the device MTU
// raised past it) is dropped and counted, in TUN and TAP mode; one of exactly the MTU is
// answered in full.
TEST_F(ResponderTest, EchoRequestLargerThanTheMtuIsNotAnswered) {
  for (bool tap : {false, true}) {
    Responder r(config(tap));
    Bytes fits = echo_request_of_size(1400), too_big = echo_request_of_size(1401);
    if (tap) {
      fits = ethernet(kLinkMac, kPeerMac, 0x0800, fits);
      too_big = ethernet(kLinkMac, kPeerMac, 0x0800, too_big);
    }
    ASSERT_EQ(r.on_device_frame(bytes(fits), true, now), Decision::reply);
    EXPECT_EQ(r.reply().size(), fits.size());
    EXPECT_EQ(r.on_device_frame(bytes(too_big), true, now), Decision::drop);
    EXPECT_EQ(r.on_device_frame(bytes(too_big), false, now), Decision::drop);
    EXPECT_EQ(r.stats().dropped_too_big, 2u);
    EXPECT_EQ(r.stats().echo_replies, 1u);
  }
}

TEST_F(ResponderTest, ArpReplyForTheLinkAddress) {
  Responder r(config(true));
  Bytes who_has =
      hex("0001080006040001"
          "0200000000aa"
          "0a000002"
          "000000000000"
          "0a000001");
  Mac broadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  ASSERT_EQ(r.on_device_frame(bytes(ethernet(broadcast, kPeerMac, 0x0806, who_has)), false, now),
            Decision::reply);
  Bytes is_at =
      hex("0001080006040002"
          "02005e100001"
          "0a000001"
          "0200000000aa"
          "0a000002");
  EXPECT_EQ(reply_of(r), ethernet(kPeerMac, kLinkMac, 0x0806, is_at));
  EXPECT_EQ(r.stats().arp_replies, 1u);
  // ARP for another address is not ours to answer: it crosses the tunnel.
  Bytes other = who_has;
  other[27] = 9;
  EXPECT_EQ(r.on_device_frame(bytes(ethernet(broadcast, kPeerMac, 0x0806, other)), true, now),
            Decision::forward);
}

TEST_F(ResponderTest, HostUnreachableWhileThePeerIsDown) {
  Responder r(config(false));
  EXPECT_EQ(r.on_device_frame(bytes(kUdp), true, now), Decision::forward);
  ASSERT_EQ(r.on_device_frame(bytes(kUdp), false, now), Decision::reply);
  EXPECT_EQ(reply_of(r), kUnreachable);
  EXPECT_EQ(r.stats().unreachable_sent, 1u);
}

TEST_F(ResponderTest, UnreachableRepliesAreRateLimited) {
  Responder r(config(false));
  int replies = 0;
  for (int i = 0; i < 100; ++i)
    replies += r.on_device_frame(bytes(kUdp), false, now) == Decision::reply;
  EXPECT_EQ(replies, 10);
  EXPECT_EQ(r.stats().errors_rate_limited, 90u);
  EXPECT_EQ(r.on_device_frame(bytes(kUdp), false, now + 1s), Decision::reply);
}

TEST_F(ResponderTest, FragmentationNeededCarriesTheTunnelMtu) {
  Responder r(config(false));
  Bytes big = big_df_packet();
  ASSERT_EQ(r.on_device_frame(bytes(big), true, now), Decision::reply);
  Bytes reply = reply_of(r);
  ASSERT_EQ(reply.size(), 576u);
  EXPECT_EQ(Bytes(reply.begin(), reply.begin() + static_cast<long>(kFragNeededHead.size())),
            kFragNeededHead);
  EXPECT_EQ(Bytes(reply.begin() + 28, reply.end()), Bytes(big.begin(), big.begin() + 548));
  EXPECT_EQ(checksum(bytes(reply).subspan(20)), 0) << "ICMP checksum verifies";
  // Without DF the packet is dropped (counted), not answered.
  big[6] = 0;
  big[10] = big[11] = 0;
  std::uint16_t c = checksum(bytes(big).first(20));
  big[10] = static_cast<std::uint8_t>(c >> 8), big[11] = static_cast<std::uint8_t>(c);
  EXPECT_EQ(r.on_device_frame(bytes(big), true, now), Decision::drop);
  EXPECT_EQ(r.stats().dropped_too_big, 1u);
}

TEST_F(ResponderTest, PacketTooBigForIpv6) {
  Responder r(config(false));
  Bytes v6(1480, 0);
  v6[0] = 0x60;
  v6[4] = (1480 - 40) >> 8;
  v6[5] = (1480 - 40) & 0xff;
  v6[6] = 17;
  v6[7] = 64;
  Bytes src = hex("fd000000000000000000000000000002"),
        dst = hex("fd000000000000000000000000000009");
  std::copy(src.begin(), src.end(), v6.begin() + 8);
  std::copy(dst.begin(), dst.end(), v6.begin() + 24);
  ASSERT_EQ(r.on_device_frame(bytes(v6), true, now), Decision::reply);
  Bytes reply = reply_of(r);
  ASSERT_EQ(reply.size(), 1280u);
  EXPECT_EQ(reply[6], 58);
  EXPECT_EQ(Bytes(reply.begin() + 8, reply.begin() + 24), dst);
  EXPECT_EQ(Bytes(reply.begin() + 24, reply.begin() + 40), src);
  EXPECT_EQ(reply[40], 2);
  EXPECT_EQ((reply[44] << 24 | reply[45] << 16 | reply[46] << 8 | reply[47]), 1400);
  // The ICMPv6 checksum verifies over the pseudo-header.
  std::uint32_t sum = checksum_add(0, bytes(reply).subspan(8, 32));
  std::uint8_t tail[8] = {0,
                          0,
                          static_cast<std::uint8_t>((1280 - 40) >> 8),
                          static_cast<std::uint8_t>((1280 - 40) & 0xff),
                          0,
                          0,
                          0,
                          58};
  sum = checksum_add(sum, util::as_bytes(tail, 8));
  EXPECT_EQ(checksum_finish(checksum_add(sum, bytes(reply).subspan(40, 1240))), 0);
}

// No peer up for an IPv6 destination: ICMPv6 "address unreachable" back to the sender,
// quoting the packet, with a valid checksum.
TEST_F(ResponderTest, AddressUnreachableForIpv6WithoutAPeer) {
  Responder r(config(false));
  Bytes v6(104, 0);
  v6[0] = 0x60;
  v6[5] = 104 - 40;
  v6[6] = 58;
  v6[7] = 64;
  v6[40] = 128;  // an echo request: not an error, so it may be reported
  Bytes src = hex("fd000000000000000000000000000002"),
        dst = hex("fd000000000000000000000000000063");
  std::copy(src.begin(), src.end(), v6.begin() + 8);
  std::copy(dst.begin(), dst.end(), v6.begin() + 24);
  EXPECT_EQ(r.on_device_frame(bytes(v6), true, now), Decision::forward);
  ASSERT_EQ(r.on_device_frame(bytes(v6), false, now), Decision::reply);
  Bytes reply = reply_of(r);
  ASSERT_EQ(reply.size(), 40u + 8u + 104u);
  EXPECT_EQ(Bytes(reply.begin() + 24, reply.begin() + 40), src);
  EXPECT_EQ(reply[40], 1);  // destination unreachable
  EXPECT_EQ(reply[41], 3);  // address unreachable
  EXPECT_EQ(Bytes(reply.begin() + 48, reply.end()), v6);
  std::uint32_t sum = checksum_add(0, bytes(reply).subspan(8, 32));
  std::uint8_t tail[8] = {0, 0, 0, 8 + 104, 0, 0, 0, 58};
  sum = checksum_add(sum, util::as_bytes(tail, 8));
  EXPECT_EQ(checksum_finish(checksum_add(sum, bytes(reply).subspan(40))), 0);
  EXPECT_EQ(r.stats().unreachable_sent, 1u);
  Bytes multicast = v6;
  multicast[24] = 0xff;  // never about a packet to a group
  EXPECT_EQ(r.on_device_frame(bytes(multicast), false, now), Decision::drop);
}

TEST_F(ResponderTest, MalformedProbesAreNeverAnswered) {
  Responder r(config(false));
  auto expect_ignored = [&](Bytes p, const char* what) {
    EXPECT_NE(r.on_device_frame(bytes(p), true, now), Decision::reply) << what;
  };
  Bytes bad_ip_sum = kEchoRequest;
  bad_ip_sum[10] ^= 1;
  expect_ignored(bad_ip_sum, "bad IPv4 header checksum");
  Bytes bad_icmp_sum = kEchoRequest;
  bad_icmp_sum[22] ^= 1;
  expect_ignored(bad_icmp_sum, "bad ICMP checksum");
  expect_ignored(Bytes(kEchoRequest.begin(), kEchoRequest.begin() + 25), "truncated");
  Bytes fragment = kEchoRequest;
  fragment[6] = 0x20;  // more fragments
  fragment[10] = fragment[11] = 0;
  std::uint16_t c = checksum(bytes(fragment).first(20));
  fragment[10] = static_cast<std::uint8_t>(c >> 8), fragment[11] = static_cast<std::uint8_t>(c);
  expect_ignored(fragment, "fragment");
  Bytes broadcast_src = kEchoRequest;
  broadcast_src[12] = 255, broadcast_src[13] = 255, broadcast_src[14] = 255,
  broadcast_src[15] = 255;
  broadcast_src[10] = broadcast_src[11] = 0;
  c = checksum(bytes(broadcast_src).first(20));
  broadcast_src[10] = static_cast<std::uint8_t>(c >> 8),
  broadcast_src[11] = static_cast<std::uint8_t>(c);
  expect_ignored(broadcast_src, "broadcast source");
  Bytes options = kEchoRequest;
  options[0] = 0x46;  // header length 24: options
  expect_ignored(options, "IP options / wrong header length");
  Bytes reply_to_us = kEchoReply;
  std::swap_ranges(reply_to_us.begin() + 12, reply_to_us.begin() + 16, reply_to_us.begin() + 16);
  expect_ignored(reply_to_us, "echo reply (not a request)");
  EXPECT_GE(r.stats().ignored_malformed, 6u);
  EXPECT_EQ(r.stats().echo_replies, 0u);
  // No ICMP error about an ICMP error.
  EXPECT_EQ(r.on_device_frame(bytes(kUnreachable), false, now), Decision::drop);

  Responder tap(config(true));
  Bytes who_has =
      hex("0001080006040001"
          "0200000000aa"
          "0a000002"
          "000000000000"
          "0a000001");
  Mac broadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  Mac multicast_src = {0x01, 0x00, 0x5e, 0, 0, 1};
  EXPECT_NE(
      tap.on_device_frame(bytes(ethernet(broadcast, multicast_src, 0x0806, who_has)), true, now),
      Decision::reply)
      << "ARP from a multicast MAC";
  Bytes gratuitous = who_has;
  std::copy(gratuitous.begin() + 24, gratuitous.begin() + 28, gratuitous.begin() + 14);
  EXPECT_NE(
      tap.on_device_frame(bytes(ethernet(broadcast, kPeerMac, 0x0806, gratuitous)), true, now),
      Decision::reply)
      << "gratuitous ARP";
  EXPECT_NE(
      tap.on_device_frame(bytes(ethernet(broadcast, kPeerMac, 0x0806, Bytes(10, 0))), true, now),
      Decision::reply)
      << "short ARP";
  EXPECT_EQ(tap.on_device_frame(bytes(Bytes(8, 0xff)), true, now), Decision::drop) << "runt frame";
}

TEST_F(ResponderTest, WithoutALinkAddressEverythingPasses) {
  ResponderConfig c = config(false);
  c.link_ip.reset();
  Responder r(c);
  EXPECT_EQ(r.on_device_frame(bytes(kEchoRequest), true, now), Decision::forward);
}

TEST_F(ResponderTest, MacHelpers) {
  Mac a = mac_from_name("tap0"), b = mac_from_name("tap0"), other = mac_from_name("tap1");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other);
  EXPECT_EQ(a[0], 0x02) << "locally administered unicast";
  EXPECT_EQ(parse_mac("02:00:5e:10:00:01"), kLinkMac);
  EXPECT_FALSE(parse_mac("01:00:5e:10:00:01")) << "multicast refused";
  EXPECT_FALSE(parse_mac("02:00:5e:10:00"));
  EXPECT_EQ(parse_ipv4("10.0.0.1"), (Ipv4{10, 0, 0, 1}));
  EXPECT_FALSE(parse_ipv4("10.0.0"));
}

}  // namespace
}  // namespace tund::link
