#include "swarm/ping.hpp"

#include <algorithm>

#include "tund/link/checksum.hpp"

namespace tund::swarm {
namespace {

constexpr std::size_t kIpHeader = 20;
constexpr std::size_t kIcmpHeader = 8;
constexpr std::byte kProtoIcmp{1};
constexpr std::byte kEchoRequest{8};
constexpr std::byte kEchoReply{0};

void write_ipv4_header(std::byte* p, std::size_t total, const link::Ipv4& from,
                       const link::Ipv4& to) {
  p[0] = std::byte{0x45};
  util::store_be16(p + 2, static_cast<std::uint16_t>(total));
  p[6] = std::byte{0x40};  // DF, as ping(8) sets it
  p[8] = std::byte{64};    // TTL
  p[9] = kProtoIcmp;
  std::transform(from.begin(), from.end(), p + 12, [](std::uint8_t b) { return std::byte{b}; });
  std::transform(to.begin(), to.end(), p + 16, [](std::uint8_t b) { return std::byte{b}; });
  util::store_be16(p + 10, link::checksum({p, kIpHeader}));
}

bool addressed_to(const std::byte* p, const link::Ipv4& address) {
  return std::equal(address.begin(), address.end(), p,
                    [](std::uint8_t a, std::byte b) { return std::byte{a} == b; });
}

}  // namespace

std::vector<std::byte> Pinger::request(const link::Ipv4& to, Clock::time_point now) {
  std::vector<std::byte> packet(kIpHeader + kIcmpHeader + kPayload, std::byte{0x5a});
  std::fill_n(packet.begin(), kIpHeader + kIcmpHeader, std::byte{0});  // headers start zeroed
  write_ipv4_header(packet.data(), packet.size(), source_, to);
  std::byte* icmp = packet.data() + kIpHeader;
  icmp[0] = kEchoRequest;
  icmp[1] = std::byte{0};
  util::store_be16(icmp + 2, 0);
  util::store_be16(icmp + 4, id_);
  std::uint16_t seq = next_seq_++;
  util::store_be16(icmp + 6, seq);
  util::store_be16(icmp + 2, link::checksum({icmp, kIcmpHeader + kPayload}));
  std::size_t slot = seq % kOutstanding;
  sent_at_[slot] = now;
  seq_at_[slot] = seq;
  pending_[slot] = true;
  ++stats_.sent;
  return packet;
}

// Only the fields that identify our reply are read; the kernel that answered checked the
// rest, and a reply we cannot match is the caller's to count.
bool Pinger::on_packet(util::ConstByteSpan packet, Clock::time_point now) {
  if (packet.size() < kIpHeader + kIcmpHeader) return false;
  const std::byte* p = packet.data();
  std::size_t ihl = (std::to_integer<std::size_t>(p[0]) & 0x0f) * 4;
  if ((p[0] >> 4) != std::byte{4} || p[9] != kProtoIcmp || ihl < kIpHeader) return false;
  if (packet.size() < ihl + kIcmpHeader || !addressed_to(p + 16, source_)) return false;
  const std::byte* icmp = p + ihl;
  if (icmp[0] != kEchoReply || util::load_be16(icmp + 4) != id_) return false;
  std::uint16_t seq = util::load_be16(icmp + 6);
  std::size_t slot = seq % kOutstanding;
  if (!pending_[slot] || seq_at_[slot] != seq) return true;  // ours, but late or repeated
  pending_[slot] = false;
  auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(now - sent_at_[slot]);
  auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, rtt.count()));
  ++stats_.replies;
  stats_.rtt_total_us += us;
  stats_.rtt_max_us = std::max(stats_.rtt_max_us, us);
  return true;
}

}  // namespace tund::swarm
