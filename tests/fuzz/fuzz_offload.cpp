// The offload cores on arbitrary input: a vnet header + packet through the segmenter (as
// if the kernel handed it over), and a stream of packets through the coalescer (as if the
// peer sent them). Segments must respect gso_size; merged packets must stay within 64 KB
// and carry only what was pushed; nothing may crash or read out of bounds.
#include <cstdlib>
#include <string>
#include <vector>

#include "tund/offload/coalescer.hpp"
#include "tund/offload/segmenter.hpp"

using namespace tund;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < offload::kVnetHeaderSize + 1) return 0;
  auto bytes = reinterpret_cast<const std::byte*>(data);
  std::vector<std::byte> out(65535);
  if (auto header = offload::parse_vnet_header({bytes, offload::kVnetHeaderSize})) {
    std::vector<std::byte> packet(bytes + offload::kVnetHeaderSize, bytes + size);
    offload::Segmenter segmenter;
    std::string why;
    if (header->gso_type == offload::GsoType::none) {
      offload::finish_checksum(*header, packet);
    } else if (segmenter.load(*header, packet, why)) {
      std::size_t total = 0;
      while (!segmenter.done()) {
        std::size_t n = segmenter.next(out);
        if (n == 0 || n > packet.size()) std::abort();
        if (++total > 70000) std::abort();  // gso_size >= 1: at most one segment per byte
      }
    }
  }
  // The same bytes as a stream of packets, each prefixed by a 1-byte length (x8).
  offload::Coalescer coalescer(2);
  // Authenticated frames skip the checksum pass: every other check must still hold then.
  coalescer.set_checksums_trusted(size > 0 && (data[size - 1] & 1) != 0);
  std::size_t pushed = 0, emitted = 0;
  offload::Coalescer::Emit emit = [&](const offload::VnetHeader&, tund::util::ConstByteSpan p) {
    if (p.size() > 65535) std::abort();
    emitted += p.size();
  };
  for (std::size_t i = 0; i < size;) {
    std::size_t len = std::min<std::size_t>(data[i] * 8u, size - i - 1);
    coalescer.push({bytes + i + 1, len}, emit);
    pushed += len;
    i += 1 + len;
  }
  coalescer.flush(emit);
  if (emitted > pushed || coalescer.pending()) std::abort();
  return 0;
}
