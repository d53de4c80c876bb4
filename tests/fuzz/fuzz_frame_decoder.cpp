// The TCP stream deframer: arbitrary bytes in arbitrary chunks. Frames must never exceed
// the limit, and nothing may crash, leak or read out of bounds.
#include <cstdlib>

#include "tund/proto/frame_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::size_t chunk = 1 + data[0] % 64;  // the first byte picks how the stream is split
  tund::proto::FrameDecoder decoder(1418, 4096);
  const auto* bytes = reinterpret_cast<const std::byte*>(data + 1);
  std::size_t left = size - 1;
  while (left > 0) {
    std::size_t n = std::min(chunk, left);
    bool ok = decoder.feed({bytes, n}, [](const tund::proto::DecodeResult& r) {
      if (r.status == tund::proto::DecodeStatus::frame &&
          (r.frame.empty() || r.frame.size() > 1418))
        std::abort();
    });
    if (!ok) break;  // a zero length ends the stream, as the transport closes it
    bytes += n;
    left -= n;
  }
  return 0;
}
