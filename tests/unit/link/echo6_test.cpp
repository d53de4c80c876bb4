// ICMPv6 echo to the IPv6 link address (RFC 4443 4.1/4.2), in TUN and TAP mode: the
// replies byte for byte against scapy's (ipv6_vectors.hpp, see gen_ipv6_vectors.py), and
// every request that must not be answered, each next to the valid one it was edited from.
#include <gtest/gtest.h>

#include "ipv6_frames.hpp"
#include "ipv6_vectors.hpp"

namespace tund::link {
namespace {

using namespace testing;
using namespace std::chrono_literals;

struct Echo6 : ::testing::Test {
  Responder::Clock::time_point now = Responder::Clock::time_point{} + 1h;
  // Not answered, not forwarded (it is for the link address), counted as malformed.
  void expect_ignored(Responder& r, const Bytes& frame, const char* what) {
    std::uint64_t before = r.stats().ignored_malformed;
    EXPECT_EQ(r.on_device_frame(bytes(frame), true, now), Decision::drop) << what;
    EXPECT_EQ(r.stats().ignored_malformed, before + 1) << what;
  }
};

TEST_F(Echo6, TunReplyMatchesScapy) {
  Responder r(config6(false));
  for (bool peer_up : {true, false}) {
    ASSERT_EQ(r.on_device_frame(bytes(hex(vectors::kEcho6Request)), peer_up, now), Decision::reply);
    EXPECT_EQ(reply_of(r), hex(vectors::kEcho6Reply));
  }
  EXPECT_EQ(r.stats().echo_replies, 2u);
}

TEST_F(Echo6, TapReplyMatchesScapy) {
  Responder r(config6(true));
  ASSERT_EQ(r.on_device_frame(bytes(hex(vectors::kEcho6RequestTap)), false, now), Decision::reply);
  EXPECT_EQ(reply_of(r), hex(vectors::kEcho6ReplyTap));
}

// Hop-by-hop, destination options and a routing header with no segments left are walked;
// the reply carries none of them, reflects the traffic class, not the flow label.
TEST_F(Echo6, AnsweredBehindExtensionHeaders) {
  Responder r(config6(false));
  ASSERT_EQ(r.on_device_frame(bytes(hex(vectors::kEcho6BehindHeaders)), true, now),
            Decision::reply);
  EXPECT_EQ(reply_of(r), hex(vectors::kEcho6BehindHeadersReply));
}

TEST_F(Echo6, NotAnsweredFromNonUnicastSources) {
  Responder r(config6(false));
  Bytes base = hex(vectors::kEcho6Request);
  const std::pair<Bytes, const char*> sources[] = {
      {hex("00000000000000000000000000000000"), "unspecified"},
      {hex("00000000000000000000000000000001"), "loopback"},
      {hex("ff020000000000000000000000000001"), "multicast"}};
  for (const auto& [source, what] : sources) {
    Bytes p = base;
    std::copy(source.begin(), source.end(), p.begin() + 8);
    fix_up(p, 0, 40);
    expect_ignored(r, p, what);
  }
  EXPECT_EQ(r.on_device_frame(bytes(base), true, now), Decision::reply) << "the control";
}

TEST_F(Echo6, NotAnsweredWhenMalformed) {
  Responder r(config6(false));
  Bytes base = hex(vectors::kEcho6Request);
  Bytes bad_sum = base;
  bad_sum[43] ^= 1;
  expect_ignored(r, bad_sum, "bad checksum");
  Bytes code = base;
  code[41] = 1;
  fix_up(code, 0, 40);
  expect_ignored(r, code, "code 1");
  Bytes reply_to_us = hex(vectors::kEcho6Reply);
  std::swap_ranges(reply_to_us.begin() + 8, reply_to_us.begin() + 24, reply_to_us.begin() + 24);
  expect_ignored(r, reply_to_us, "an echo reply, not a request");
  Bytes truncated = base;
  truncated.pop_back();  // the payload length says one byte more than there is
  expect_ignored(r, truncated, "truncated");
  Bytes short_icmp = base;
  put16(short_icmp, 4, 4);  // the payload length says 4: no room for the ICMPv6 header
  expect_ignored(r, short_icmp, "payload length shorter than an ICMPv6 header");
  Bytes udp = base;
  udp[6] = 17;
  expect_ignored(r, udp, "UDP to the link address");
  EXPECT_EQ(r.stats().echo_replies, 0u);
}

// A Fragment header that is not atomic (reassembly is not done here), a routing header
// with segments left, an option that says "discard", an extension header not walked, a
// chain that runs past the packet, hop-by-hop not first: none is answered.
TEST_F(Echo6, NotAnsweredBehindChainsItMayNotProcess) {
  Responder r(config6(false));
  Bytes base = hex(vectors::kEcho6Request);
  auto with_header = [&](std::uint8_t kind, const Bytes& header) {
    Bytes p = insert(base, 40, header);
    p[6] = kind;
    fix_up(p, 0, 40 + header.size());
    return p;
  };
  Bytes atomic = with_header(44, hex("3a00000000000001"));
  ASSERT_EQ(r.on_device_frame(bytes(atomic), true, now), Decision::reply) << "atomic fragment";
  expect_ignored(r, with_header(44, hex("3a00000100000001")), "first fragment (M=1)");
  expect_ignored(r, with_header(43, hex("3a00000100000000")), "routing, segments left 1");
  expect_ignored(r, with_header(0, hex("3a00c20400000000")), "hop-by-hop option 0xc2 (discard)");
  Bytes skip = with_header(60, hex("3a00220400000000"));
  ASSERT_EQ(r.on_device_frame(bytes(skip), true, now), Decision::reply) << "option 0x22: skip";
  expect_ignored(r, with_header(253, hex("3a00000000000000")), "experimental extension 253");
  expect_ignored(r, with_header(50, hex("3a00000000000000")), "ESP");
  expect_ignored(r, with_header(51, hex("3a0100000000000000000000")), "AH (not verified)");
  expect_ignored(r, with_header(60, hex("3a05000000000000")), "destination options past the end");
  Bytes hbh_second = insert(with_header(60, hex("0000010400000000")), 48, hex("3a00010400000000"));
  fix_up(hbh_second, 0, 56);
  expect_ignored(r, hbh_second, "hop-by-hop after destination options");
}

TEST_F(Echo6, TapNotAnsweredFromAGroupMac) {
  Responder r(config6(true));
  Bytes p = hex(vectors::kEcho6RequestTap);
  p[6] = 0x01;  // 01:00:00:00:00:aa
  expect_ignored(r, p, "from a group MAC");
}

// A reply never exceeds the link MTU: a request the tunnel could not carry is dropped and
// counted, as for IPv4; one of exactly the MTU is answered.
TEST_F(Echo6, RequestLargerThanTheMtuIsDropped) {
  for (bool tap : {false, true}) {
    Responder r(config6(tap, 1400));
    std::size_t l3 = tap ? 14 : 0;
    Bytes fits = hex(tap ? vectors::kEcho6RequestTap : vectors::kEcho6Request);
    fits.resize(l3 + 1400, 0x5a);
    fix_up(fits, l3, l3 + 40);
    Bytes too_big = fits;
    too_big.push_back(0x5a);
    fix_up(too_big, l3, l3 + 40);
    ASSERT_EQ(r.on_device_frame(bytes(fits), true, now), Decision::reply);
    EXPECT_EQ(r.reply().size(), fits.size());
    EXPECT_EQ(r.on_device_frame(bytes(too_big), false, now), Decision::drop);
    EXPECT_EQ(r.stats().dropped_too_big, 1u);
    EXPECT_EQ(r.stats().echo_replies, 1u);
  }
}

TEST_F(Echo6, OnlyTheLinkAddressIsAnswered) {
  Bytes to_group = hex(vectors::kEcho6Request);
  to_group[24] = 0xff, to_group[25] = 0x02;  // ff02::1
  fix_up(to_group, 0, 40);
  Responder r(config6(false));
  EXPECT_EQ(r.on_device_frame(bytes(to_group), true, now), Decision::forward);
  EXPECT_EQ(r.on_device_frame(bytes(to_group), false, now), Decision::drop);
  ResponderConfig none = config6(false);
  none.link_ip6.reset();
  Responder without(none);
  EXPECT_EQ(without.on_device_frame(bytes(hex(vectors::kEcho6Request)), true, now),
            Decision::forward);
  ResponderConfig group = config6(false);
  group.link_ip6 = Ipv6{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  Responder multicast_link(group);
  EXPECT_FALSE(multicast_link.config().link_ip6) << "a group address is never the link's";
  EXPECT_EQ(multicast_link.on_device_frame(bytes(to_group), true, now), Decision::forward);
}

TEST_F(Echo6, ParseIpv6) {
  EXPECT_EQ(parse_ipv6("fd00::1"), kLink6);
  EXPECT_FALSE(parse_ipv6("fd00::1::2"));
  EXPECT_FALSE(parse_ipv6("10.0.0.1"));
  EXPECT_FALSE(parse_ipv6(""));
}

}  // namespace
}  // namespace tund::link
