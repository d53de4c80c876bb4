#include "tund/tunnel/frame_check.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace tund::tunnel {
namespace {

using device::LinkLayer;

std::vector<std::byte> bytes(std::size_t n, unsigned first) {
  std::vector<std::byte> v(n, std::byte{0});
  if (n) v[0] = std::byte(first);
  return v;
}

// An IPv4 packet of `n` bytes claiming `claimed` as its total length.
std::vector<std::byte> ipv4(std::size_t n, std::size_t claimed, unsigned first = 0x45) {
  auto v = bytes(n, first);
  if (n >= 4) util::store_be16(v.data() + 2, static_cast<std::uint16_t>(claimed));
  return v;
}
// An IPv6 packet of `n` bytes claiming `payload` bytes after its 40-byte header.
std::vector<std::byte> ipv6(std::size_t n, std::size_t payload) {
  auto v = bytes(n, 0x60);
  if (n >= 6) util::store_be16(v.data() + 4, static_cast<std::uint16_t>(payload));
  return v;
}
// An Ethernet frame of `n` bytes with `type`, holding `packet` after the header.
std::vector<std::byte> ethernet(std::size_t n, std::uint16_t type,
                                const std::vector<std::byte>& packet = {}) {
  auto v = bytes(n, 0x02);
  util::store_be16(v.data() + 12, type);
  std::copy_n(packet.begin(), std::min(packet.size(), n - 14), v.begin() + 14);
  return v;
}

TEST(FrameCheck, TunAcceptsIpv4AndIpv6PacketsOfTheirOwnLength) {
  EXPECT_TRUE(plausible_frame(ipv4(20, 20), LinkLayer::ip));
  EXPECT_FALSE(plausible_frame(ipv4(19, 19), LinkLayer::ip));
  EXPECT_TRUE(plausible_frame(ipv6(40, 0), LinkLayer::ip));
  EXPECT_FALSE(plausible_frame(ipv6(39, 0), LinkLayer::ip));
  EXPECT_FALSE(plausible_frame(bytes(100, 0x55), LinkLayer::ip));
  EXPECT_FALSE(plausible_frame(bytes(0, 0), LinkLayer::ip));
}

TEST(FrameCheck, TunChecksTheIpLengthAgainstTheFrame) {
  EXPECT_TRUE(plausible_frame(ipv4(1500, 1500), LinkLayer::ip));
  EXPECT_FALSE(plausible_frame(ipv4(1000, 1500), LinkLayer::ip)) << "cut short";
  EXPECT_FALSE(plausible_frame(ipv4(1500, 1000), LinkLayer::ip)) << "trailing bytes";
  EXPECT_FALSE(plausible_frame(ipv4(60, 40, 0x4f), LinkLayer::ip)) << "header longer than total";
  EXPECT_FALSE(plausible_frame(ipv4(60, 60, 0x44), LinkLayer::ip)) << "IHL below 5";
  EXPECT_TRUE(plausible_frame(ipv6(1500, 1460), LinkLayer::ip));
  EXPECT_FALSE(plausible_frame(ipv6(1000, 1460), LinkLayer::ip));
  EXPECT_FALSE(plausible_frame(ipv6(1500, 0), LinkLayer::ip)) << "no jumbograms";
}

TEST(FrameCheck, LargerThanOurMtuIsStillPlausible) {
  EXPECT_TRUE(plausible_frame(ipv4(9000, 9000), LinkLayer::ip));
  EXPECT_TRUE(plausible_frame(ipv4(65535, 65535), LinkLayer::ip));
}

TEST(FrameCheck, TapNeedsAnEthernetHeader) {
  EXPECT_TRUE(plausible_frame(ethernet(14, 0x0806), LinkLayer::ethernet));
  EXPECT_FALSE(plausible_frame(bytes(13, 0xff), LinkLayer::ethernet));
}

TEST(FrameCheck, TapAllowsPaddingAfterAnIpPacketButNotTruncation) {
  EXPECT_TRUE(plausible_frame(ethernet(60, 0x0800, ipv4(28, 28)), LinkLayer::ethernet))
      << "a 28-byte ping padded to the 60-byte Ethernet minimum";
  EXPECT_TRUE(plausible_frame(ethernet(1514, 0x0800, ipv4(1500, 1500)), LinkLayer::ethernet));
  EXPECT_FALSE(plausible_frame(ethernet(1014, 0x0800, ipv4(1000, 1500)), LinkLayer::ethernet));
  EXPECT_FALSE(plausible_frame(ethernet(60, 0x0800, ipv6(46, 6)), LinkLayer::ethernet))
      << "EtherType IPv4 with an IPv6 header";
  EXPECT_TRUE(plausible_frame(ethernet(94, 0x86dd, ipv6(80, 40)), LinkLayer::ethernet));
  EXPECT_FALSE(plausible_frame(ethernet(94, 0x86dd, ipv6(80, 100)), LinkLayer::ethernet));
}

TEST(FrameCheck, NetworkPacketSizeLeavesOutTheLinkHeader) {
  EXPECT_EQ(network_packet_size(ipv4(1500, 1500), LinkLayer::ip), 1500u);
  EXPECT_EQ(network_packet_size(ethernet(1514, 0x0800), LinkLayer::ethernet), 1500u);
  EXPECT_EQ(network_packet_size(ethernet(1518, 0x8100), LinkLayer::ethernet), 1500u);
  EXPECT_EQ(network_packet_size(bytes(10, 0), LinkLayer::ethernet), 0u);
}

TEST(FrameCheck, DescribesIpv4) {
  auto p = ipv4(84, 84);
  p[9] = std::byte{1};
  p[12] = std::byte{10}, p[15] = std::byte{1};
  p[16] = std::byte{10}, p[19] = std::byte{2};
  EXPECT_EQ(describe_frame(p, LinkLayer::ip), "84 bytes IPv4 10.0.0.1 > 10.0.0.2 proto 1");
}

TEST(FrameCheck, DescribesEthernet) {
  auto f = bytes(60, 0xff);
  f[12] = std::byte{0x08}, f[13] = std::byte{0x06};
  EXPECT_EQ(describe_frame(f, LinkLayer::ethernet), "60 bytes Ethernet type 0x0806");
}

}  // namespace
}  // namespace tund::tunnel
