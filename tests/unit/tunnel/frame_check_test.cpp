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

TEST(FrameCheck, TunAcceptsIpv4AndIpv6HeadersOnly) {
  EXPECT_TRUE(plausible_frame(bytes(20, 0x45), LinkLayer::ip));
  EXPECT_FALSE(plausible_frame(bytes(19, 0x45), LinkLayer::ip));
  EXPECT_TRUE(plausible_frame(bytes(40, 0x60), LinkLayer::ip));
  EXPECT_FALSE(plausible_frame(bytes(39, 0x60), LinkLayer::ip));
  EXPECT_FALSE(plausible_frame(bytes(100, 0x55), LinkLayer::ip));
  EXPECT_FALSE(plausible_frame(bytes(0, 0), LinkLayer::ip));
}

TEST(FrameCheck, TapNeedsAnEthernetHeader) {
  EXPECT_TRUE(plausible_frame(bytes(14, 0xff), LinkLayer::ethernet));
  EXPECT_FALSE(plausible_frame(bytes(13, 0xff), LinkLayer::ethernet));
}

TEST(FrameCheck, DescribesIpv4) {
  auto p = bytes(84, 0x45);
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
