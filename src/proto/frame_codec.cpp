#include "tund/proto/frame_codec.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "tund/proto/wire.hpp"

namespace tund::proto {

void encode_length_prefix(std::byte* out, std::size_t size) {
  assert(size > 0 && size <= kMaxFrameAbsolute);
  util::store_be16(out, static_cast<std::uint16_t>(size));
}

FrameDecoder::FrameDecoder(std::size_t max_frame, std::size_t capacity)
    // The buffer must hold at least one whole frame plus its prefix, or next() could never
    // complete a maximal frame.
    : max_frame_(std::min(max_frame, kMaxFrameAbsolute)),
      buf_(std::max(capacity, max_frame_ + kTcpLengthPrefix)) {}

util::ByteSpan FrameDecoder::free_space() {
  // Keep room for at least one whole frame behind the data, so a read never stalls on a
  // sliver of buffer at the end.
  if (buf_.size() - end_ < max_frame_ + kTcpLengthPrefix) compact();
  return {buf_.data() + end_, buf_.size() - end_};
}

void FrameDecoder::commit(std::size_t n) {
  assert(n <= buf_.size() - end_);
  end_ += n;
}

void FrameDecoder::reset() {
  begin_ = end_ = skip_remaining_ = 0;
}

// Moves an incomplete frame to the front so the next read has room behind it. Only the
// tail of one frame is ever moved, so the cost is bounded by max_frame per read.
void FrameDecoder::compact() {
  if (begin_ == 0) return;
  std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
}

DecodeResult FrameDecoder::next() {
  if (skip_remaining_ > 0) {
    std::size_t n = std::min(skip_remaining_, end_ - begin_);
    begin_ += n;
    skip_remaining_ -= n;
    if (skip_remaining_ > 0) {
      begin_ = end_ = 0;  // everything buffered was part of the skipped frame
      return {DecodeStatus::need_more};
    }
  }
  std::size_t available = end_ - begin_;
  if (available < kTcpLengthPrefix) {
    if (available == 0) begin_ = end_ = 0;
    return {DecodeStatus::need_more};
  }
  std::size_t size = util::load_be16(buf_.data() + begin_);
  if (size == 0) return {DecodeStatus::error, {}, 0};
  if (size > max_frame_) {
    begin_ += kTcpLengthPrefix;
    skip_remaining_ = size;
    std::size_t n = std::min(skip_remaining_, end_ - begin_);
    begin_ += n;
    skip_remaining_ -= n;
    return {DecodeStatus::skipped, {}, size};
  }
  if (available < kTcpLengthPrefix + size) return {DecodeStatus::need_more};
  util::ByteSpan frame{buf_.data() + begin_ + kTcpLengthPrefix, size};
  begin_ += kTcpLengthPrefix + size;
  return {DecodeStatus::frame, frame, size};
}

}  // namespace tund::proto
