// The TCP stream codec: 2-byte big-endian length + payload (simpletun's format).
// The decoder owns a receive buffer; the transport reads straight into free_space(),
// commits, and pulls complete frames out with next(). Frames are views into the buffer, so
// a frame is never copied on its way from the socket to the device.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tund/util/bytes.hpp"

namespace tund::proto {

// Writes the length prefix for a payload of `size` bytes (1..65535) at `out`.
void encode_length_prefix(std::byte* out, std::size_t size);

enum class DecodeStatus {
  frame,      // `frame` holds one complete payload
  need_more,  // no complete frame buffered; read more
  skipped,    // an oversize frame was discarded whole (the stream stays in sync)
  error,      // the stream is corrupt (zero length); the connection must be closed
};

struct DecodeResult {
  DecodeStatus status;
  util::ByteSpan frame{};         // valid for status == frame until the next call; mutable so the
                                  // encrypted path can decrypt in place
  std::size_t declared_size = 0;  // the length field, for skipped/error diagnostics
};

class FrameDecoder {
 public:
  // `max_frame`: largest acceptable payload; longer ones are skipped.
  // `capacity`: receive buffer size; larger means more frames per read() syscall.
  FrameDecoder(std::size_t max_frame, std::size_t capacity);

  util::ByteSpan free_space();
  void commit(std::size_t n);
  DecodeResult next();

  // Bytes of an incomplete frame still buffered (non-zero when a stream ends mid-frame).
  std::size_t pending() const { return end_ - begin_ + skip_remaining_; }
  void reset();

  // Convenience for tests and fuzzing: copies `data` in and calls `on_result` per result
  // (other than need_more). Returns false if the stream hit an error.
  template <typename OnResult>
  bool feed(util::ConstByteSpan data, OnResult&& on_result);

 private:
  void compact();

  std::size_t max_frame_;
  std::vector<std::byte> buf_;
  std::size_t begin_ = 0;           // first unconsumed byte
  std::size_t end_ = 0;             // one past the last received byte
  std::size_t skip_remaining_ = 0;  // bytes of an oversize frame still to discard
};

template <typename OnResult>
bool FrameDecoder::feed(util::ConstByteSpan data, OnResult&& on_result) {
  while (!data.empty()) {
    auto space = free_space();
    std::size_t n = std::min(space.size(), data.size());
    std::copy_n(data.begin(), n, space.begin());
    commit(n);
    data = data.subspan(n);
    for (;;) {
      DecodeResult r = next();
      if (r.status == DecodeStatus::need_more) break;
      on_result(r);
      if (r.status == DecodeStatus::error) return false;
    }
  }
  return true;
}

}  // namespace tund::proto
