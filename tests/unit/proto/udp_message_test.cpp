#include "tund/proto/udp_message.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace tund::proto {
namespace {

using Bytes = std::vector<std::byte>;

Bytes datagram(unsigned type, std::size_t body, unsigned reserved = 0) {
  Bytes d(kUdpHeaderSize + body, std::byte{0x45});
  d[0] = std::byte(type);
  d[1] = d[2] = std::byte{0};
  d[3] = std::byte(reserved);
  return d;
}

TEST(UdpMessage, DataCarriesTheFrame) {
  auto d = datagram(1, 84);
  auto r = parse_udp_message(d, 1400);
  ASSERT_TRUE(r.message);
  EXPECT_EQ(r.message->type, MessageType::data);
  EXPECT_EQ(r.message->body.size(), 84u);
  EXPECT_EQ(r.message->body.data(), d.data() + 4);
}

TEST(UdpMessage, KeepaliveIsJustTheHeader) {
  auto r = parse_udp_message(datagram(2, 0), 1400);
  ASSERT_TRUE(r.message);
  EXPECT_EQ(r.message->type, MessageType::keepalive);
}

TEST(UdpMessage, WrongShapesAreRefusedWithAReason) {
  struct Case {
    Bytes bytes;
    UdpParseError error;
  } cases[] = {
      {Bytes{}, UdpParseError::too_short},
      {Bytes(3, std::byte{1}), UdpParseError::too_short},
      {datagram(1, 10, 1), UdpParseError::reserved_nonzero},
      {datagram(0, 10), UdpParseError::unknown_type},
      {datagram(6, 10), UdpParseError::unknown_type},
      {datagram(255, 10), UdpParseError::unknown_type},
      {datagram(1, 0), UdpParseError::empty_data},
      {datagram(1, 1401), UdpParseError::oversize_data},
      {datagram(2, 1), UdpParseError::keepalive_payload},
  };
  for (const auto& c : cases) {
    auto r = parse_udp_message(c.bytes, 1400);
    EXPECT_FALSE(r.message) << to_string(c.error);
    EXPECT_EQ(r.error, c.error) << to_string(c.error);
  }
}

TEST(UdpMessage, EncryptedTypesPassToTheSecureSession) {
  for (unsigned type : {3u, 4u, 5u}) {
    auto r = parse_udp_message(datagram(type, 40), 1400);
    ASSERT_TRUE(r.message) << type;
    EXPECT_EQ(static_cast<unsigned>(r.message->type), type);
  }
}

TEST(UdpMessage, HeaderRoundTrip) {
  Bytes d(kUdpHeaderSize + 1, std::byte{0xff});
  write_udp_header(d.data(), MessageType::keepalive);
  EXPECT_EQ(d[0], std::byte{2});
  EXPECT_EQ(d[1], std::byte{0});
  EXPECT_EQ(d[3], std::byte{0});
}

}  // namespace
}  // namespace tund::proto
