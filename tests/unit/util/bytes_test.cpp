// The one set of byte-order helpers (util/bytes.hpp) and IP header views (util/ip.hpp)
// every module uses, against bytes written out by hand.
#include "tund/util/bytes.hpp"

#include <gtest/gtest.h>

#include <array>

#include "tund/util/ip.hpp"

namespace tund::util {
namespace {

template <std::size_t N>
std::array<std::byte, N> bytes(const std::array<unsigned, N>& values) {
  std::array<std::byte, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<std::byte>(values[i]);
  return out;
}

TEST(Bytes, BigEndianLoadsReadNetworkOrder) {
  auto b = bytes<8>({0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef});
  EXPECT_EQ(load_u8(b.data() + 1), 0x23);
  EXPECT_EQ(load_be16(b.data()), 0x0123);
  EXPECT_EQ(load_be32(b.data()), 0x01234567u);
  EXPECT_EQ(load_be64(b.data()), 0x0123456789abcdefu);
}

TEST(Bytes, StoresWriteWhatTheLoadsRead) {
  std::array<std::byte, 8> b{};
  store_be16(b.data(), 0xbeef);
  EXPECT_EQ(b, (bytes<8>({0xbe, 0xef, 0, 0, 0, 0, 0, 0})));
  store_be32(b.data(), 0xdeadbeef);
  EXPECT_EQ(b, (bytes<8>({0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0})));
  store_be64(b.data(), 0x0102030405060708);
  EXPECT_EQ(b, (bytes<8>({1, 2, 3, 4, 5, 6, 7, 8})));
  store_le16(b.data(), 0x1234);
  EXPECT_EQ(load_u8(b.data()), 0x34) << "little-endian: low byte first";
  EXPECT_EQ(load_le16(b.data()), 0x1234);
}

TEST(IpViews, VersionAndIpv4HeaderLength) {
  auto v4 = bytes<1>({0x46});  // version 4, IHL 6 words (4 bytes of options)
  EXPECT_EQ(ip_version(v4.data()), 4u);
  EXPECT_EQ(ipv4_header_length(v4.data()), 24u);
  auto v6 = bytes<1>({0x60});
  EXPECT_EQ(ip_version(v6.data()), 6u);
}

}  // namespace
}  // namespace tund::util
