#include "tund/offload/segmenter.hpp"

#include <gtest/gtest.h>

#include "unit/offload/packet_builder.hpp"

namespace tund::offload {
namespace {

using test::Bytes;
using test::get16;
using test::get32;

using test::span;

VnetHeader gso(const Bytes& p, GsoType type, std::uint16_t size) {
  VnetHeader h;
  h.flags = kNeedsChecksum;
  h.gso_type = type;
  h.gso_size = size;
  h.csum_start = static_cast<std::uint16_t>(test::l4_offset(p));
  h.csum_offset = type == GsoType::udp_l4 ? 6 : 16;
  return h;
}

std::vector<Bytes> segment_all(const VnetHeader& h, const Bytes& packet) {
  Segmenter s;
  std::string why;
  EXPECT_TRUE(s.load(h, span(packet), why)) << why;
  std::vector<Bytes> out;
  Bytes buffer(65535);
  while (!s.done()) {
    std::size_t n = s.next(test::writable(buffer));
    if (n == 0) break;
    out.emplace_back(buffer.begin(), buffer.begin() + static_cast<long>(n));
  }
  return out;
}

TEST(Segmenter, SplitsTcpv4IntoMtuSizedPacketsWithFixedHeaders) {
  test::Shape shape;
  shape.payload = 4000;
  shape.tcp_flags = 0x18 | 0x01 | 0x80;  // ACK PSH FIN CWR
  Bytes super = test::build(shape);
  auto segs = segment_all(gso(super, GsoType::tcpv4, 1348), super);
  ASSERT_EQ(segs.size(), 3u);
  std::size_t headers = 20 + 32, offset = 0;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const Bytes& s = segs[i];
    std::size_t payload = i < 2 ? 1348 : 4000 - 2 * 1348;
    ASSERT_EQ(s.size(), headers + payload);
    EXPECT_EQ(get16(s, 2), s.size());    // IPv4 total length
    EXPECT_EQ(get16(s, 4), 0x1234 + i);  // consecutive IDs
    EXPECT_TRUE(test::ipv4_header_ok(s));
    EXPECT_EQ(get32(s, 24), 1000 + offset);  // sequence number
    EXPECT_EQ(get32(s, 28), 77u);            // ack untouched
    bool last = i == 2, first = i == 0;
    EXPECT_EQ(s[33] & 0x09, last ? 0x09 : 0) << i;   // FIN/PSH only on the last
    EXPECT_EQ(s[33] & 0x80, first ? 0x80 : 0) << i;  // CWR only on the first
    EXPECT_EQ(s[33] & 0x10, 0x10);
    EXPECT_TRUE(test::l4_checksum_ok(s)) << "segment " << i;
    EXPECT_TRUE(
        std::equal(s.begin() + 52, s.end(), super.begin() + static_cast<long>(headers + offset)));
    EXPECT_TRUE(std::equal(s.begin() + 40, s.begin() + 52, super.begin() + 40));  // options
    offset += payload;
  }
}

TEST(Segmenter, SplitsTcpv6) {
  test::Shape shape;
  shape.v6 = true;
  shape.payload = 2800;
  Bytes super = test::build(shape);
  auto segs = segment_all(gso(super, GsoType::tcpv6, 1400), super);
  ASSERT_EQ(segs.size(), 2u);
  for (const Bytes& s : segs) {
    EXPECT_EQ(get16(s, 4), s.size() - 40);  // payload length
    EXPECT_TRUE(test::l4_checksum_ok(s));
  }
  EXPECT_EQ(get32(segs[1], 44), 1000u + 1400);
  EXPECT_EQ(segs[0][53] & 0x08, 0);  // PSH moved to the last
  EXPECT_EQ(segs[1][53] & 0x08, 0x08);
}

TEST(Segmenter, SplitsUdpIntoDatagramsEachWithItsOwnLengthAndChecksum) {
  for (bool v6 : {false, true}) {
    test::Shape shape;
    shape.v6 = v6;
    shape.udp = true;
    shape.payload = 3000;
    Bytes super = test::build(shape);
    auto segs = segment_all(gso(super, GsoType::udp_l4, 1200), super);
    ASSERT_EQ(segs.size(), 3u);
    std::size_t l4 = v6 ? 40 : 20;
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(get16(segs[i], l4 + 4), (i < 2 ? 1200 : 600) + 8u);
      EXPECT_TRUE(test::l4_checksum_ok(segs[i])) << v6 << i;
      if (!v6) {
        EXPECT_TRUE(test::ipv4_header_ok(segs[i]));
      }
    }
  }
}

TEST(Segmenter, ExactMultipleGivesNoEmptyTail) {
  test::Shape shape;
  shape.payload = 2 * 1000;
  Bytes super = test::build(shape);
  EXPECT_EQ(segment_all(gso(super, GsoType::tcpv4, 1000), super).size(), 2u);
}

TEST(Segmenter, RefusesInconsistentPackets) {
  test::Shape shape;
  shape.payload = 3000;
  Bytes super = test::build(shape);
  Segmenter s;
  std::string why;
  VnetHeader h = gso(super, GsoType::tcpv4, 0);
  EXPECT_FALSE(s.load(h, span(super), why));
  h = gso(super, GsoType::tcpv6, 1000);  // IPv4 packet
  EXPECT_FALSE(s.load(h, span(super), why));
  h = gso(super, GsoType::tcpv4, 1000);
  h.csum_start = 24;
  EXPECT_FALSE(s.load(h, span(super), why));
  h = gso(super, GsoType::udp, 1000);  // UFO is never enabled
  EXPECT_FALSE(s.load(h, span(super), why));
  h = gso(super, GsoType::tcpv4, 1000);
  EXPECT_FALSE(s.load(h, span(super).first(30), why));  // truncated TCP header
  EXPECT_FALSE(s.load(h, span(super).first(52), why));  // headers only
  EXPECT_TRUE(s.done());
  Bytes junk = super;
  junk[32] = 0x10;  // data offset 4 words
  EXPECT_FALSE(s.load(h, span(junk), why));
  EXPECT_FALSE(why.empty());
}

TEST(Segmenter, FinishesAPartialChecksum) {
  for (bool udp : {false, true}) {
    test::Shape shape;
    shape.udp = udp;
    shape.payload = 333;  // odd length
    Bytes p = test::build(shape);
    std::size_t field = 20 + (udp ? 6 : 16);
    // What the kernel leaves with CHECKSUM_PARTIAL: the folded pseudo-header sum.
    test::put16(p, field, test::ref_fold(test::ref_pseudo(p)));
    VnetHeader h = gso(p, GsoType::none, 0);
    h.csum_offset = udp ? 6 : 16;
    ASSERT_TRUE(finish_checksum(h, test::writable(p)));
    EXPECT_TRUE(test::l4_checksum_ok(p));
    h.csum_offset = 1000;
    EXPECT_FALSE(finish_checksum(h, test::writable(p)));
  }
}

TEST(VnetHeader, RoundTripsLittleEndianAndRefusesUnknownTypes) {
  VnetHeader h{kNeedsChecksum, GsoType::tcpv6, 86, 1388, 40, 16};
  std::byte raw[kVnetHeaderSize];
  write_vnet_header(h, raw);
  EXPECT_EQ(std::to_integer<int>(raw[4]), 1388 & 0xff);  // little-endian
  auto back = parse_vnet_header(raw);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->gso_size, 1388);
  EXPECT_EQ(back->gso_type, GsoType::tcpv6);
  raw[1] = std::byte{9};
  EXPECT_FALSE(parse_vnet_header(raw));
  EXPECT_FALSE(parse_vnet_header(util::ConstByteSpan(raw, 9)));
}

}  // namespace
}  // namespace tund::offload
