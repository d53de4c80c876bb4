// Userspace receive coalescing (GRO) toward a TUN device with offloads: consecutive
// in-order segments of one TCP flow, as they arrive from the peer, are merged into one
// super-packet that the kernel takes in a single write (with a virtio_net_hdr saying how
// to re-segment it), so the stack sees 64 KB at a time instead of forty 1.4 KB packets.
// Does no I/O: push() packets in arrival order; everything reaches `emit` in an order that
// keeps each flow's packets in sequence. flush() at the end of a batch.
//
// Merged only: IPv4 without options or fragmentation, IPv6 without extension headers;
// TCP with payload, flags ACK (+PSH), the next expected sequence number, and the same
// ack number, options, TOS/TTL (traffic class/flow label/hop limit) as the flow's first
// segment, all segments of its size but the last, and a correct checksum (a corrupt
// segment is passed on alone, for the kernel to drop and count). Anything else passes
// through unchanged.
//
// Trusted checksums (set_checksums_trusted): frames that an AEAD session authenticated were
// not modified on the way, so their TCP checksums are not summed again before merging —
// the precedent is Linux WireGuard, which marks every decrypted packet
// CHECKSUM_UNNECESSARY (drivers/net/wireguard/receive.c). Plaintext peers stay verified.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "tund/offload/vnet_header.hpp"
#include "tund/util/bytes.hpp"

namespace tund::offload {

struct CoalescerStats {
  std::uint64_t merged_segments = 0;  // segments that went out inside a super-packet
  std::uint64_t super_packets = 0;    // merged packets emitted (2 segments or more)
  std::uint64_t passed_through = 0;   // packets emitted as they came
};

class Coalescer {
 public:
  using Emit = std::function<void(const VnetHeader& header, util::ConstByteSpan packet)>;

  explicit Coalescer(std::size_t max_flows = 8);

  void push(util::ConstByteSpan packet, const Emit& emit);
  void flush(const Emit& emit);
  bool pending() const;
  // True: skip the per-segment TCP checksum check (the frames were authenticated).
  void set_checksums_trusted(bool trusted) { checksums_trusted_ = trusted; }
  const CoalescerStats& stats() const { return stats_; }

 private:
  struct Segment;  // what push() learned about a packet (coalescer.cpp)
  struct Flow {
    std::vector<std::byte> buffer;  // the growing super-packet (first segment's headers)
    std::size_t size = 0, l4_offset = 0, header_size = 0, gso_size = 0, segments = 0;
    std::uint32_t next_seq = 0;
    std::uint64_t started = 0;  // for evicting the oldest when the table is full
    bool in_use = false;
  };

  static Segment parse(util::ConstByteSpan packet, bool checksums_trusted);
  Flow* find(const Segment& s);
  Flow& take_slot(const Emit& emit);
  void start(Flow& flow, const Segment& s);
  bool can_append(const Flow& flow, const Segment& s) const;
  void append(Flow& flow, const Segment& s);
  void emit_flow(Flow& flow, const Emit& emit);
  void pass_through(util::ConstByteSpan packet, const Emit& emit);

  std::vector<Flow> flows_;
  std::uint64_t clock_ = 0;
  bool checksums_trusted_ = false;
  CoalescerStats stats_;
};

}  // namespace tund::offload
