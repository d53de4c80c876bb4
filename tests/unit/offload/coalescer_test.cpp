#include "tund/offload/coalescer.hpp"

#include <gtest/gtest.h>

#include "tund/offload/segmenter.hpp"
#include "unit/offload/packet_builder.hpp"

namespace tund::offload {
namespace {

using test::Bytes;
using test::get16;
using test::get32;

using test::span;

struct Written {
  VnetHeader header;
  Bytes packet;
};

class CoalescerTest : public ::testing::Test {
 protected:
  void push(const Bytes& p) { c.push(span(p), emit); }
  void flush() { c.flush(emit); }

  // Consecutive segments of one flow, as a segmenting peer sends them.
  std::vector<Bytes> segments(test::Shape shape, std::size_t count, std::size_t size) {
    std::vector<Bytes> out;
    for (std::size_t i = 0; i < count; ++i) {
      shape.payload = size;
      shape.payload_seed = static_cast<std::uint8_t>(i);
      out.push_back(test::build(shape));
      shape.seq += static_cast<std::uint32_t>(size);
      shape.ip_id = static_cast<std::uint16_t>(shape.ip_id + 1);
    }
    return out;
  }

  Coalescer c;
  std::vector<Written> written;
  Coalescer::Emit emit = [this](const VnetHeader& h, util::ConstByteSpan p) {
    written.push_back({h, test::numbers(p)});
  };
};

// What the kernel will do with a merged packet: finish the partial checksum and check it.
bool merged_checksum_ok(const Written& w) {
  Bytes p = w.packet;
  std::size_t start = w.header.csum_start, field = start + w.header.csum_offset;
  test::put16(p, field,
              static_cast<std::uint16_t>(~test::ref_fold(test::ref_sum(p, start, p.size()))));
  return test::l4_checksum_ok(p);
}

TEST_F(CoalescerTest, MergesInOrderSegmentsIntoOneSuperPacket) {
  test::Shape shape;
  shape.tcp_flags = 0x10;  // ACK
  auto segs = segments(shape, 5, 1348);
  for (auto& s : segs) push(s);
  EXPECT_TRUE(written.empty());  // held until the batch ends
  flush();
  ASSERT_EQ(written.size(), 1u);
  const Written& w = written[0];
  EXPECT_EQ(w.header.gso_type, GsoType::tcpv4);
  EXPECT_EQ(w.header.flags, kNeedsChecksum);
  EXPECT_EQ(w.header.gso_size, 1348);
  EXPECT_EQ(w.header.csum_start, 20);
  EXPECT_EQ(w.header.csum_offset, 16);
  EXPECT_EQ(w.header.hdr_len, 52);
  ASSERT_EQ(w.packet.size(), 52 + 5 * 1348u);
  EXPECT_EQ(get16(w.packet, 2), w.packet.size());
  EXPECT_TRUE(test::ipv4_header_ok(w.packet));
  EXPECT_EQ(get32(w.packet, 24), 1000u);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_TRUE(std::equal(segs[i].begin() + 52, segs[i].end(),
                           w.packet.begin() + static_cast<long>(52 + i * 1348)));
  EXPECT_TRUE(merged_checksum_ok(w));
  EXPECT_EQ(c.stats().super_packets, 1u);
  EXPECT_EQ(c.stats().merged_segments, 5u);
}

TEST_F(CoalescerTest, SegmenterOutputMergesBackToTheOriginal) {
  for (bool v6 : {false, true}) {
    written.clear();
    test::Shape shape;
    shape.v6 = v6;
    shape.payload = 10000;
    Bytes super = test::build(shape);
    Segmenter s;
    std::string why;
    VnetHeader h{kNeedsChecksum, v6 ? GsoType::tcpv6 : GsoType::tcpv4,     0,
                 1388,           static_cast<std::uint16_t>(v6 ? 40 : 20), 16};
    ASSERT_TRUE(s.load(h, span(super), why));
    Bytes buffer(65535);
    while (!s.done()) {
      std::size_t n = s.next(test::writable(buffer));
      push(Bytes(buffer.begin(), buffer.begin() + static_cast<long>(n)));
    }
    // PSH on the last segment ends the merge at once: no flush needed.
    ASSERT_EQ(written.size(), 1u);
    EXPECT_EQ(written[0].packet.size(), super.size());
    EXPECT_TRUE(std::equal(super.begin() + (v6 ? 72 : 52), super.end(),
                           written[0].packet.begin() + (v6 ? 72 : 52)));
    EXPECT_TRUE(merged_checksum_ok(written[0]));
    EXPECT_EQ(written[0].header.gso_type, v6 ? GsoType::tcpv6 : GsoType::tcpv4);
  }
}

TEST_F(CoalescerTest, ASingleSegmentPassesUnchanged) {
  test::Shape shape;
  Bytes p = test::build(shape);
  shape.tcp_flags = 0x10;
  p = test::build(shape);
  push(p);
  flush();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].header.gso_type, GsoType::none);
  EXPECT_EQ(written[0].header.flags, 0);
  EXPECT_EQ(written[0].packet, p);
}

TEST_F(CoalescerTest, AGapInSequenceStartsANewSuperPacket) {
  test::Shape shape;
  shape.tcp_flags = 0x10;
  auto segs = segments(shape, 4, 1000);
  push(segs[0]);
  push(segs[1]);
  push(segs[3]);  // segs[2] lost
  flush();
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0].packet.size(), 52 + 2000u);
  EXPECT_EQ(written[1].packet, segs[3]);
}

TEST_F(CoalescerTest, ShortSegmentEndsTheMergeAndNothingFollowsIt) {
  test::Shape shape;
  shape.tcp_flags = 0x10;
  auto segs = segments(shape, 2, 1000);
  test::Shape tail = shape;
  tail.seq = 3000;
  tail.payload = 10;
  segs.push_back(test::build(tail));
  for (auto& s : segs) push(s);
  ASSERT_EQ(written.size(), 1u);  // emitted at once
  EXPECT_EQ(written[0].packet.size(), 52 + 2010u);
}

TEST_F(CoalescerTest, ACorruptSegmentIsPassedAloneAfterWhatPrecededIt) {
  test::Shape shape;
  shape.tcp_flags = 0x10;
  auto segs = segments(shape, 3, 1000);
  segs[1][100] ^= 0xff;  // payload bit flips: checksum no longer matches
  for (auto& s : segs) push(s);
  flush();
  ASSERT_EQ(written.size(), 3u);
  EXPECT_EQ(written[0].packet, segs[0]);
  EXPECT_EQ(written[1].packet, segs[1]);  // for the kernel to drop and count
  EXPECT_EQ(written[2].packet, segs[2]);
  EXPECT_EQ(c.stats().super_packets, 0u);
}

// Authenticated frames (an AEAD session) are merged without summing their payload again:
// the same flipped bit now travels inside the super-packet, which is the trade Linux
// WireGuard makes by marking decrypted packets CHECKSUM_UNNECESSARY.
TEST_F(CoalescerTest, TrustedChecksumsAreNotVerifiedBeforeMerging) {
  c.set_checksums_trusted(true);
  test::Shape shape;
  shape.tcp_flags = 0x10;
  auto segs = segments(shape, 3, 1000);
  segs[1][100] ^= 0xff;
  for (auto& s : segs) push(s);
  flush();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].packet.size(), segs[0].size() + 2000);
  EXPECT_EQ(c.stats().super_packets, 1u);
  EXPECT_EQ(c.stats().merged_segments, 3u);
}

TEST_F(CoalescerTest, ControlPacketsOfAFlowGoAfterItsPendingData) {
  test::Shape shape;
  shape.tcp_flags = 0x10;
  auto segs = segments(shape, 2, 1000);
  test::Shape fin = shape;
  fin.seq = 3000;
  fin.tcp_flags = 0x11;  // FIN|ACK
  fin.payload = 0;
  push(segs[0]);
  push(segs[1]);
  push(test::build(fin));
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0].packet.size(), 52 + 2000u);
  EXPECT_EQ(written[1].packet[33], 0x11);
}

TEST_F(CoalescerTest, OtherTrafficPassesAtOnceWithoutBreakingAMerge) {
  test::Shape shape;
  shape.tcp_flags = 0x10;
  auto segs = segments(shape, 2, 1000);
  test::Shape udp;
  udp.udp = true;
  udp.payload = 50;
  test::Shape other = shape;  // another flow's pure ACK
  other.src_port = 1234;
  other.payload = 0;
  push(segs[0]);
  push(test::build(udp));
  push(test::build(other));
  push(segs[1]);
  EXPECT_EQ(written.size(), 2u);
  flush();
  ASSERT_EQ(written.size(), 3u);
  EXPECT_EQ(written[2].packet.size(), 52 + 2000u);
}

TEST_F(CoalescerTest, InterleavedFlowsMergeSeparately) {
  test::Shape a, b;
  a.tcp_flags = b.tcp_flags = 0x10;
  b.src_port = 40001;
  b.v6 = true;
  auto sa = segments(a, 3, 1000), sb = segments(b, 3, 1000);
  for (int i = 0; i < 3; ++i) {
    push(sa[static_cast<std::size_t>(i)]);
    push(sb[static_cast<std::size_t>(i)]);
  }
  flush();
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(c.stats().merged_segments, 6u);
}

TEST_F(CoalescerTest, DifferentAckOrOptionsDoNotMerge) {
  test::Shape shape;
  shape.tcp_flags = 0x10;
  auto segs = segments(shape, 3, 1000);
  test::Shape changed = shape;
  changed.seq = 2000;
  changed.ack = 78;
  segs[1] = test::build((changed.payload = 1000, changed));
  for (auto& s : segs) push(s);
  flush();
  EXPECT_EQ(written.size(), 3u);
}

TEST_F(CoalescerTest, NeverGrowsBeyondTheIpLengthLimit) {
  test::Shape shape;
  shape.tcp_flags = 0x10;
  for (auto& s : segments(shape, 60, 1400)) push(s);
  flush();
  ASSERT_GE(written.size(), 2u);
  for (const Written& w : written) EXPECT_LE(w.packet.size(), 65535u);
}

TEST_F(CoalescerTest, ATableFullOfFlowsEvictsTheOldest) {
  Coalescer small(2);
  std::vector<Written> out;
  Coalescer::Emit collect = [&](const VnetHeader&, util::ConstByteSpan p) {
    out.push_back({{}, Bytes(p.size())});
  };
  for (std::uint16_t port = 1; port <= 3; ++port) {
    test::Shape s;
    s.tcp_flags = 0x10;
    s.src_port = port;
    s.payload = 100;
    small.push(span(test::build(s)), collect);
  }
  EXPECT_EQ(out.size(), 1u);
  small.flush(collect);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_FALSE(small.pending());
}

TEST_F(CoalescerTest, MalformedPacketsPassThroughUntouched) {
  for (Bytes junk : {Bytes{}, Bytes{0x45}, Bytes(30, 0x45), Bytes(60, 0x60), Bytes(20, 0xff)}) {
    written.clear();
    push(junk);
    ASSERT_EQ(written.size(), 1u);
    EXPECT_EQ(written[0].packet, junk);
  }
}

}  // namespace
}  // namespace tund::offload
