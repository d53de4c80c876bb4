#include "tund/proto/frame_codec.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace tund::proto {
namespace {

using Bytes = std::vector<std::byte>;

Bytes payload(std::size_t n, unsigned seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = std::byte(static_cast<unsigned char>(seed + i * 7));
  return b;
}

// The wire bytes of `frames`, each prefixed by its big-endian length.
Bytes encode(const std::vector<Bytes>& frames) {
  Bytes out;
  for (const auto& f : frames) {
    std::byte prefix[2];
    encode_length_prefix(prefix, f.size());
    out.insert(out.end(), prefix, prefix + 2);
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

struct Collected {
  std::vector<Bytes> frames;
  int skipped = 0, errors = 0;
};

Collected feed_in_chunks(FrameDecoder& d, const Bytes& stream, std::size_t chunk) {
  Collected c;
  for (std::size_t off = 0; off < stream.size(); off += chunk) {
    std::size_t n = std::min(chunk, stream.size() - off);
    d.feed({stream.data() + off, n}, [&](const DecodeResult& r) {
      if (r.status == DecodeStatus::frame) c.frames.emplace_back(r.frame.begin(), r.frame.end());
      if (r.status == DecodeStatus::skipped) ++c.skipped;
      if (r.status == DecodeStatus::error) ++c.errors;
    });
  }
  return c;
}

TEST(FrameCodec, PrefixIsBigEndianLength) {
  std::byte p[2];
  encode_length_prefix(p, 0x0554);
  EXPECT_EQ(p[0], std::byte{0x05});
  EXPECT_EQ(p[1], std::byte{0x54});
}

TEST(FrameCodec, StreamSplitAtEveryByteBoundary) {
  std::vector<Bytes> frames = {payload(1, 1), payload(84, 2), payload(1400, 3), payload(60, 4)};
  Bytes stream = encode(frames);
  for (std::size_t split = 1; split < stream.size(); ++split) {
    FrameDecoder d(1400, 4096);
    Collected c;
    for (auto part : {std::pair{std::size_t{0}, split}, std::pair{split, stream.size()}}) {
      auto more = feed_in_chunks(d,
                                 Bytes(stream.begin() + static_cast<long>(part.first),
                                       stream.begin() + static_cast<long>(part.second)),
                                 stream.size());
      c.frames.insert(c.frames.end(), more.frames.begin(), more.frames.end());
    }
    ASSERT_EQ(c.frames, frames) << "split at byte " << split;
    EXPECT_EQ(d.pending(), 0u);
  }
}

TEST(FrameCodec, OneByteAtATime) {
  std::vector<Bytes> frames = {payload(20, 9), payload(1400, 8)};
  FrameDecoder d(1400, 4096);
  EXPECT_EQ(feed_in_chunks(d, encode(frames), 1).frames, frames);
}

TEST(FrameCodec, ManyFramesInOneRead) {
  std::vector<Bytes> frames;
  for (unsigned i = 0; i < 500; ++i) frames.push_back(payload(20 + (i * 37) % 1381, i));
  Bytes stream = encode(frames);
  FrameDecoder d(1400, 1 << 20);
  auto space = d.free_space();
  ASSERT_GE(space.size(), stream.size());
  std::copy(stream.begin(), stream.end(), space.begin());
  d.commit(stream.size());
  std::vector<Bytes> got;
  for (;;) {
    auto r = d.next();
    if (r.status == DecodeStatus::need_more) break;
    ASSERT_EQ(r.status, DecodeStatus::frame);
    got.emplace_back(r.frame.begin(), r.frame.end());
  }
  EXPECT_EQ(got, frames);
}

TEST(FrameCodec, SmallBufferStillDeliversLongStreams) {
  std::vector<Bytes> frames;
  for (unsigned i = 0; i < 100; ++i) frames.push_back(payload(1400, i));
  FrameDecoder d(1400, 1);  // capacity is raised to one frame + prefix
  EXPECT_EQ(feed_in_chunks(d, encode(frames), 999).frames, frames);
}

TEST(FrameCodec, ZeroLengthIsAnError) {
  FrameDecoder d(1400, 4096);
  Bytes stream = encode({payload(30, 1)});
  stream.push_back(std::byte{0});
  stream.push_back(std::byte{0});
  auto c = feed_in_chunks(d, stream, stream.size());
  EXPECT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(c.errors, 1);
}

TEST(FrameCodec, OversizeFrameIsSkippedAndTheStreamStaysInSync) {
  FrameDecoder d(1400, 4096);
  Bytes stream = encode({payload(1401, 1), payload(50, 2), payload(9000, 3), payload(60, 4)});
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{1000}, stream.size()}) {
    FrameDecoder fresh(1400, 4096);
    auto c = feed_in_chunks(fresh, stream, chunk);
    EXPECT_EQ(c.skipped, 2) << "chunk " << chunk;
    EXPECT_EQ(c.frames, (std::vector<Bytes>{payload(50, 2), payload(60, 4)})) << "chunk " << chunk;
  }
}

TEST(FrameCodec, FrameOfExactlyMaxSizeIsAccepted) {
  FrameDecoder d(1418, 4096);
  auto c = feed_in_chunks(d, encode({payload(1418, 5)}), 4096);
  ASSERT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(c.skipped, 0);
}

TEST(FrameCodec, TruncatedStreamLeavesBytesPending) {
  FrameDecoder d(1400, 4096);
  Bytes stream = encode({payload(100, 1), payload(100, 2)});
  stream.resize(stream.size() - 10);
  auto c = feed_in_chunks(d, stream, stream.size());
  EXPECT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(d.pending(), 92u);  // the second frame's prefix + 90 of its 100 bytes
  d.reset();
  EXPECT_EQ(d.pending(), 0u);
}

TEST(FrameCodec, LoneLengthByteIsPending) {
  FrameDecoder d(1400, 4096);
  Bytes one = {std::byte{0x01}};
  auto c = feed_in_chunks(d, one, 1);
  EXPECT_TRUE(c.frames.empty());
  EXPECT_EQ(d.pending(), 1u);
}

}  // namespace
}  // namespace tund::proto
