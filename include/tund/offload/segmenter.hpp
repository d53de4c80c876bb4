// Userspace segmentation (the sending half of TSO/USO): a TUN device with offloads hands
// tund one TCP or UDP "super-packet" of up to 64 KB; the peer must receive ordinary
// MTU-sized IP packets, so the wire format is unchanged and a simpletun peer still
// understands every frame. Does no I/O: load() a packet, then take next() segments.
//
// Each TCP segment gets the original headers with its own IP length/id (IPv4) or payload
// length (IPv6), sequence number, flags (FIN/PSH only on the last, CWR only on the first)
// and a complete checksum; each USO segment its own UDP length and checksum. A packet that
// needs no segmentation but carries a partial checksum (kNeedsChecksum) gets it finished.
#pragma once

#include <cstddef>
#include <string>

#include "tund/offload/vnet_header.hpp"
#include "tund/util/bytes.hpp"

namespace tund::offload {

// Finishes a partial checksum in place (kNeedsChecksum with gso none); false if the
// header's offsets do not fit the packet.
bool finish_checksum(const VnetHeader& header, util::ByteSpan packet);

class Segmenter {
 public:
  // Starts segmenting `packet` (an IP packet; the bytes must stay valid and unchanged
  // until done()). Returns false with `why` set if the packet and header disagree.
  bool load(const VnetHeader& header, util::ConstByteSpan packet, std::string& why);
  bool done() const { return next_offset_ >= payload_end_; }
  std::size_t segments_left() const;
  // Writes the next segment into `out` (at least header + gso_size bytes); returns its size.
  std::size_t next(util::ByteSpan out);

 private:
  util::ConstByteSpan packet_;
  std::size_t l4_offset_ = 0;    // IP header (with any extension headers) length
  std::size_t header_size_ = 0;  // IP + TCP/UDP header bytes copied into every segment
  std::size_t gso_size_ = 0;
  std::size_t next_offset_ = 0, payload_end_ = 0;
  std::uint8_t proto_ = 0;
  unsigned index_ = 0;
};

}  // namespace tund::offload
