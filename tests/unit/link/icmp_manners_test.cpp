// ICMP manners of the link responder (RFC 1122 3.2.2, RFC 1812 4.3.2.7, RFC 4443 2.4(e)):
// no ICMP error about a packet to a broadcast or multicast address, in a link-layer
// broadcast, about a later fragment or an ICMP error, or from a non-unicast source; and
// none sent from such an address. Each case next to a unicast control that is answered.
#include <gtest/gtest.h>

#include "tund/link/checksum.hpp"
#include "tund/link/responder.hpp"

namespace tund::link {
namespace {

using Bytes = std::vector<std::uint8_t>;

// The test data is written as numbers; the responder and the checksum take bytes.
util::ConstByteSpan bytes(const Bytes& b) {
  return std::as_bytes(std::span(b));
}
using namespace std::chrono_literals;

constexpr Ipv4 kHost{10, 9, 0, 2}, kFar{10, 9, 0, 7};

void put16(std::uint8_t* p, std::size_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

// An IPv4 packet (valid header checksum) of `size` bytes: protocol `proto`, flags/offset
// field `frag`, then `first` as the first payload byte (the ICMP type for proto 1).
Bytes ipv4(Ipv4 src, Ipv4 dst, std::size_t size = 60, std::uint8_t proto = 17,
           std::uint16_t frag = 0, std::uint8_t first = 0x9c) {
  Bytes p(size, 0);
  p[0] = 0x45;
  put16(&p[2], size);
  put16(&p[6], frag);
  p[8] = 64;
  p[9] = proto;
  std::copy(src.begin(), src.end(), p.begin() + 12);
  std::copy(dst.begin(), dst.end(), p.begin() + 16);
  p[20] = first;
  put16(&p[10], checksum(bytes(p).first(20)));
  return p;
}

Bytes ethernet(const Mac& dst, const Mac& src, const Bytes& payload, std::uint16_t type = 0x0800) {
  Bytes f(dst.begin(), dst.end());
  f.insert(f.end(), src.begin(), src.end());
  f.push_back(static_cast<std::uint8_t>(type >> 8));
  f.push_back(static_cast<std::uint8_t>(type));
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

struct IcmpManners : ::testing::Test {
  Responder::Clock::time_point now = Responder::Clock::time_point{} + 1h;
  static ResponderConfig config(bool tap = false) {
    ResponderConfig c;
    c.ethernet = tap;
    c.link_ip = Ipv4{10, 9, 0, 1};
    c.link_mac = {0x02, 0, 0x5e, 0x10, 0, 1};
    c.tunnel_mtu = 1400;
    c.unreachable_per_second = 1000;
    return c;
  }
  Responder r{config()};
  IcmpManners() { r.set_local_subnets({{Ipv4{10, 9, 0, 1}, 24}}); }
  // Whether an ICMP error comes back while the peer is down.
  bool reported(Responder& responder, const Bytes& packet) {
    return responder.on_device_frame(bytes(packet), false, now) == Decision::reply;
  }
  bool reported(const Bytes& packet) { return reported(r, packet); }
};

TEST_F(IcmpManners, UnicastToTheFarSideIsReported) {
  EXPECT_TRUE(reported(ipv4(kHost, kFar)));
  EXPECT_EQ(r.stats().unreachable_sent, 1u);
}

TEST_F(IcmpManners, NoErrorAboutBroadcastDestinations) {
  EXPECT_FALSE(reported(ipv4(kHost, {255, 255, 255, 255}))) << "limited broadcast";
  EXPECT_FALSE(reported(ipv4(kHost, {10, 9, 0, 255}))) << "directed broadcast of 10.9.0.0/24";
  EXPECT_FALSE(reported(ipv4(kHost, {10, 9, 0, 0}))) << "all-zeros host of 10.9.0.0/24";
  EXPECT_TRUE(reported(ipv4(kHost, {10, 9, 1, 255}))) << "another subnet's .255 is unicast";
  EXPECT_EQ(r.stats().errors_withheld, 3u);
}

TEST_F(IcmpManners, TheSubnetsFollowTheDeviceAddresses) {
  Bytes to_broadcast = ipv4(kHost, {10, 8, 255, 255});
  EXPECT_TRUE(reported(to_broadcast)) << "no 10.8.0.0/16 on the device yet";
  r.set_local_subnets({{Ipv4{10, 9, 0, 1}, 24}, {Ipv4{10, 8, 3, 4}, 16}});
  EXPECT_FALSE(reported(to_broadcast)) << "an address added by hand counts too";
  r.set_local_subnets({});
  EXPECT_TRUE(reported(ipv4(kHost, {10, 9, 0, 255}))) << "the address was removed";
}

// `ip addr add 10.12.0.1/24 brd 10.12.0.128`: the kernel treats .128 as a broadcast
// address (local table), so it must draw no error, as source or destination.
TEST_F(IcmpManners, AnExplicitBroadcastAddressCountsToo) {
  Bytes to_brd = ipv4(kHost, {10, 12, 0, 128});
  EXPECT_TRUE(reported(to_brd)) << "no such address on the device yet";
  r.set_local_subnets({{Ipv4{10, 12, 0, 1}, 24, Ipv4{10, 12, 0, 128}}});
  EXPECT_FALSE(reported(to_brd));
  EXPECT_FALSE(reported(ipv4({10, 12, 0, 128}, kFar))) << "nor from it";
  r.set_local_subnets({{Ipv4{10, 12, 0, 1}, 32, Ipv4{10, 17, 0, 77}}});
  EXPECT_FALSE(reported(ipv4(kHost, {10, 17, 0, 77}))) << "whatever the prefix";
}

TEST_F(IcmpManners, PointToPointPrefixesHaveNoBroadcast) {
  r.set_local_subnets({{Ipv4{10, 9, 0, 6}, 31}});
  EXPECT_TRUE(reported(ipv4(kHost, kFar))) << "10.9.0.7 is the other end of the /31";
}

TEST_F(IcmpManners, NoErrorAboutMulticastClassEOrLoopback) {
  EXPECT_FALSE(reported(ipv4(kHost, {224, 0, 0, 1})));
  EXPECT_FALSE(reported(ipv4(kHost, {239, 1, 2, 3})));
  EXPECT_FALSE(reported(ipv4(kHost, {240, 0, 0, 1})));
  EXPECT_FALSE(reported(ipv4(kHost, {127, 0, 0, 1})));
  EXPECT_FALSE(reported(ipv4(kHost, {0, 1, 2, 3})));
}

TEST_F(IcmpManners, NoErrorAboutAPacketFromANonUnicastSource) {
  for (Ipv4 source : {Ipv4{0, 0, 0, 0}, Ipv4{255, 255, 255, 255}, Ipv4{224, 0, 0, 5},
                      Ipv4{127, 0, 0, 1}, Ipv4{240, 0, 0, 1}, Ipv4{10, 9, 0, 255}})
    EXPECT_FALSE(reported(ipv4(source, kFar))) << int(source[0]) << "." << int(source[3]);
}

TEST_F(IcmpManners, NoErrorAboutALaterFragmentOrAnIcmpError) {
  EXPECT_TRUE(reported(ipv4(kHost, kFar, 60, 17, 0x2000))) << "first fragment (MF, offset 0)";
  EXPECT_FALSE(reported(ipv4(kHost, kFar, 60, 17, 0x0010))) << "offset 128";
  EXPECT_FALSE(reported(ipv4(kHost, kFar, 60, 1, 0, 3))) << "destination unreachable";
  EXPECT_FALSE(reported(ipv4(kHost, kFar, 60, 1, 0, 11))) << "time exceeded";
  EXPECT_TRUE(reported(ipv4(kHost, kFar, 60, 1, 0, 8))) << "an echo request is not an error";
}

TEST_F(IcmpManners, NoFragmentationNeededForABroadcastEither) {
  EXPECT_EQ(r.on_device_frame(bytes(ipv4(kHost, {10, 9, 0, 255}, 1480, 17, 0x4000)), true, now),
            Decision::drop);
  EXPECT_EQ(r.stats().too_big_sent, 0u);
  EXPECT_EQ(r.on_device_frame(bytes(ipv4(kHost, kFar, 1480, 17, 0x4000)), true, now),
            Decision::reply);
  EXPECT_EQ(r.stats().too_big_sent, 1u);
}

TEST_F(IcmpManners, NeverFromABroadcastLinkAddress) {
  ResponderConfig c = config();
  c.link_ip = Ipv4{10, 9, 0, 255};
  Responder odd(c);
  odd.set_local_subnets({{Ipv4{10, 9, 0, 1}, 24}});
  EXPECT_FALSE(reported(odd, ipv4(kHost, kFar)));
  c.link_ip = Ipv4{224, 0, 0, 9};
  Responder group(c);
  EXPECT_FALSE(reported(group, ipv4(kHost, kFar)));
}

TEST_F(IcmpManners, TapNoErrorAboutALinkLayerBroadcastOrMulticast) {
  Responder tap(config(true));
  const Mac unicast{0x02, 0, 0, 0, 0, 0xaa}, broadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
      group{0x01, 0x00, 0x5e, 0, 0, 1}, sender{0x02, 0, 0, 0, 0, 0xbb};
  Bytes packet = ipv4(kHost, kFar);
  EXPECT_TRUE(reported(tap, ethernet(unicast, sender, packet)));
  EXPECT_FALSE(reported(tap, ethernet(broadcast, sender, packet)));
  EXPECT_FALSE(reported(tap, ethernet(group, sender, packet)));
  EXPECT_FALSE(reported(tap, ethernet(unicast, group, packet))) << "from a group MAC";
}

// ---- IPv6 -------------------------------------------------------------------------------

Bytes ipv6(const std::string& src_last, std::uint8_t dst_first, std::size_t size = 1480,
           std::uint8_t next = 17, std::uint16_t frag_offset = 0, std::uint8_t first = 0) {
  Bytes p(size, 0);
  p[0] = 0x60;
  put16(&p[4], size - 40);
  p[6] = next;
  p[7] = 64;
  if (src_last == "::") {
    p[23] = 0;
  } else if (src_last == "::1") {
    p[23] = 1;
  } else if (src_last == "ff02::1") {
    p[8] = 0xff, p[9] = 2, p[23] = 1;
  } else {
    p[8] = 0xfd;  // fd00::<src_last>
    p[23] = static_cast<std::uint8_t>(std::stoul(src_last, nullptr, 16));
  }
  p[24] = dst_first;
  p[25] = dst_first == 0xff ? 0x02 : 0;
  p[39] = 9;
  put16(&p[42], frag_offset);  // fragment header: offset/flags (when next == 44)
  p[40] = first;               // ICMPv6 type (when next == 58)
  return p;
}

TEST_F(IcmpManners, Ipv6PacketTooBigOnlyAboutUnicastFromUnicast) {
  auto too_big = [&](const Bytes& p) {
    return r.on_device_frame(bytes(p), true, now) == Decision::reply;
  };
  EXPECT_TRUE(too_big(ipv6("2", 0xfd)));
  EXPECT_FALSE(too_big(ipv6("2", 0xff))) << "multicast: it could only come from the group";
  EXPECT_FALSE(too_big(ipv6("::", 0xfd))) << "unspecified source";
  EXPECT_FALSE(too_big(ipv6("::1", 0xfd))) << "loopback source";
  EXPECT_FALSE(too_big(ipv6("ff02::1", 0xfd))) << "multicast source";
  EXPECT_FALSE(too_big(ipv6("2", 0xfd, 1480, 58, 0, 1))) << "an ICMPv6 error";
  EXPECT_TRUE(too_big(ipv6("2", 0xfd, 1480, 58, 0, 128))) << "an echo request";
  EXPECT_FALSE(too_big(ipv6("2", 0xfd, 1480, 44, 0x0100))) << "a later fragment";
  EXPECT_TRUE(too_big(ipv6("2", 0xfd, 1480, 44, 0x0001, 17))) << "the first fragment (of UDP)";
}

TEST_F(IcmpManners, ARaisedTunnelMtuCarriesWhatWasTooBig) {
  Bytes big = ipv4(kHost, kFar, 1480, 17, 0x4000);
  EXPECT_EQ(r.on_device_frame(bytes(big), true, now), Decision::reply);
  r.set_tunnel_mtu(1500);
  EXPECT_EQ(r.on_device_frame(bytes(big), true, now), Decision::forward);
}

}  // namespace
}  // namespace tund::link
