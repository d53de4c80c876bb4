#include "tund/offload/coalescer.hpp"

#include <cstring>

#include "ip_fields.hpp"

namespace tund::offload {

using namespace detail;

namespace {

// The IPv4 total length field limits a merged packet; IPv6 is held to the same bound.
constexpr std::size_t kMaxMerged = 65535;

}  // namespace

// A parsed TCP segment; `tcp` false for anything the coalescer does not touch.
struct Coalescer::Segment {
  util::ConstByteSpan packet;
  bool tcp = false, mergeable = false;
  unsigned version = 0;
  std::size_t l4_offset = 0, header_size = 0, payload = 0;
  std::uint32_t seq = 0;
  std::uint8_t flags = 0;
};

namespace {

bool checksum_ok(const std::byte* ip, std::size_t l4_offset, std::size_t l4_length) {
  std::uint32_t sum = pseudo_header_sum(ip, kProtoTcp, l4_length);
  return link::checksum_finish(link::checksum_add(sum, {ip + l4_offset, l4_length})) == 0;
}

}  // namespace

Coalescer::Coalescer(std::size_t max_flows) : flows_(max_flows) {}

bool Coalescer::pending() const {
  for (const Flow& f : flows_)
    if (f.in_use) return true;
  return false;
}

void Coalescer::push(util::ConstByteSpan packet, const Emit& emit) {
  Segment s = parse(packet, checksums_trusted_);
  if (!s.tcp) return pass_through(packet, emit);
  Flow* flow = find(s);
  if (!s.mergeable) {
    // Keeps the flow in order: what was merged so far must reach the kernel first.
    if (flow) emit_flow(*flow, emit);
    return pass_through(packet, emit);
  }
  if (flow && can_append(*flow, s)) {
    append(*flow, s);
  } else {
    if (flow) emit_flow(*flow, emit);
    flow = flow ? flow : &take_slot(emit);
    start(*flow, s);
  }
  // A short segment or PSH ends what the sender sent as one unit: nothing can follow it.
  if (s.payload < flow->gso_size || (s.flags & kPsh)) emit_flow(*flow, emit);
}

void Coalescer::flush(const Emit& emit) {
  for (Flow& f : flows_)
    if (f.in_use) emit_flow(f, emit);
}

Coalescer::Flow* Coalescer::find(const Segment& s) {
  const std::byte* p = s.packet.data();
  for (Flow& f : flows_) {
    if (!f.in_use || f.l4_offset != s.l4_offset || ip_version(f.buffer.data()) != s.version)
      continue;
    const std::byte* q = f.buffer.data();
    // Addresses (IPv4 bytes 12-19, IPv6 8-39) and ports.
    bool same =
        s.version == 4 ? std::memcmp(p + 12, q + 12, 8) == 0 : std::memcmp(p + 8, q + 8, 32) == 0;
    if (same && std::memcmp(p + s.l4_offset, q + s.l4_offset, 4) == 0) return &f;
  }
  return nullptr;
}

Coalescer::Flow& Coalescer::take_slot(const Emit& emit) {
  Flow* oldest = &flows_.front();
  for (Flow& f : flows_) {
    if (!f.in_use) return f;
    if (f.started < oldest->started) oldest = &f;
  }
  emit_flow(*oldest, emit);
  return *oldest;
}

void Coalescer::start(Flow& flow, const Segment& s) {
  if (flow.buffer.size() < kMaxMerged) flow.buffer.resize(kMaxMerged);
  std::memcpy(flow.buffer.data(), s.packet.data(), s.packet.size());
  flow.size = s.packet.size();
  flow.l4_offset = s.l4_offset;
  flow.header_size = s.header_size;
  flow.gso_size = s.payload;
  flow.segments = 1;
  flow.next_seq = s.seq + static_cast<std::uint32_t>(s.payload);
  flow.started = ++clock_;
  flow.in_use = true;
}

bool Coalescer::can_append(const Flow& flow, const Segment& s) const {
  if (s.seq != flow.next_seq || s.payload > flow.gso_size) return false;
  if (s.header_size != flow.header_size || flow.size + s.payload > kMaxMerged) return false;
  const std::byte* p = s.packet.data();
  const std::byte* q = flow.buffer.data();
  if (s.version == 4) {
    // TOS, DF/fragment bits, TTL must match (the merged header keeps the first's).
    if (p[1] != q[1] || p[6] != q[6] || p[8] != q[8]) return false;
  } else {
    if (std::memcmp(p, q, 4) != 0 || p[7] != q[7]) return false;  // class, flow label, hops
  }
  const std::byte* t = p + s.l4_offset;
  const std::byte* u = q + flow.l4_offset;
  // Same ack number and identical options (timestamps included), as Linux GRO requires.
  return std::memcmp(t + 8, u + 8, 4) == 0 &&
         std::memcmp(t + kTcpMinHeader, u + kTcpMinHeader,
                     s.header_size - s.l4_offset - kTcpMinHeader) == 0;
}

void Coalescer::append(Flow& flow, const Segment& s) {
  std::memcpy(flow.buffer.data() + flow.size, s.packet.data() + s.header_size, s.payload);
  flow.size += s.payload;
  ++flow.segments;
  flow.next_seq += static_cast<std::uint32_t>(s.payload);
  std::byte* tcp = flow.buffer.data() + flow.l4_offset;
  // The newest window advertisement is the one that counts; PSH carries over.
  std::memcpy(tcp + 14, s.packet.data() + s.l4_offset + 14, 2);
  tcp[13] |= static_cast<std::byte>(s.flags & kPsh);
}

void Coalescer::emit_flow(Flow& flow, const Emit& emit) {
  flow.in_use = false;
  util::ConstByteSpan bytes{flow.buffer.data(), flow.size};
  if (flow.segments == 1) {  // untouched: its own checksum is still right
    ++stats_.passed_through;
    emit(VnetHeader{}, bytes);
    return;
  }
  std::byte* ip = flow.buffer.data();
  set_ip_length(ip, flow.size);
  std::size_t l4_length = flow.size - flow.l4_offset;
  // Partial checksum: the kernel finishes it if it ever needs the real one, and trusts
  // the data otherwise (each segment's checksum was verified on the way in).
  util::store_be16(ip + flow.l4_offset + 16,
                   link::checksum_fold(pseudo_header_sum(ip, kProtoTcp, l4_length)));
  VnetHeader h;
  h.flags = kNeedsChecksum;
  h.gso_type = ip_version(ip) == 4 ? GsoType::tcpv4 : GsoType::tcpv6;
  h.hdr_len = static_cast<std::uint16_t>(flow.header_size);
  h.gso_size = static_cast<std::uint16_t>(flow.gso_size);
  h.csum_start = static_cast<std::uint16_t>(flow.l4_offset);
  h.csum_offset = 16;
  ++stats_.super_packets;
  stats_.merged_segments += flow.segments;
  emit(h, bytes);
}

void Coalescer::pass_through(util::ConstByteSpan packet, const Emit& emit) {
  ++stats_.passed_through;
  emit(VnetHeader{}, packet);
}

Coalescer::Segment Coalescer::parse(util::ConstByteSpan p, bool checksums_trusted) {
  Segment s;
  s.packet = p;
  if (p.size() < kIpv4MinHeader) return s;
  const std::byte* ip = p.data();
  s.version = ip_version(ip);
  bool plain_ip;  // no options / extension headers / fragmentation
  if (s.version == 4) {
    std::size_t ihl = ipv4_header_length(ip);
    if (load_u8(ip + 9) != kProtoTcp || ihl < kIpv4MinHeader) return s;
    if (util::load_be16(ip + 2) != p.size()) return s;
    plain_ip = ihl == kIpv4MinHeader && (util::load_be16(ip + 6) & 0x3fff) == 0 &&
               link::checksum({ip, ihl}) == 0;
    s.l4_offset = ihl;
  } else if (s.version == 6) {
    if (p.size() < kIpv6Header || load_u8(ip + 6) != kProtoTcp) return s;
    if (util::load_be16(ip + 4) + kIpv6Header != p.size()) return s;
    plain_ip = true;
    s.l4_offset = kIpv6Header;
  } else {
    return s;
  }
  if (s.l4_offset + kTcpMinHeader > p.size()) return s;
  const std::byte* tcp = ip + s.l4_offset;
  std::size_t tcp_header = (load_u8(tcp + 12) >> 4) * 4u;
  if (tcp_header < kTcpMinHeader || s.l4_offset + tcp_header > p.size()) return s;
  s.tcp = true;
  s.header_size = s.l4_offset + tcp_header;
  s.payload = p.size() - s.header_size;
  s.seq = util::load_be32(tcp + 4);
  s.flags = load_u8(tcp + 13);
  bool only_ack_psh = (s.flags & ~(kAck | kPsh)) == 0 && (s.flags & kAck);
  s.mergeable = plain_ip && only_ack_psh && s.payload > 0 &&
                (checksums_trusted || checksum_ok(ip, s.l4_offset, p.size() - s.l4_offset));
  return s;
}

}  // namespace tund::offload
