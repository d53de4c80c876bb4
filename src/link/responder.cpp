// The responder's dispatch (which protocol a frame is), what every reply shares (the
// Ethernet header, the error budget) and the parsers of its configuration.
#include "tund/link/responder.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

#include "tund/util/ip.hpp"
#include "wire.hpp"

namespace tund::link {

using util::kEthernetHeader, util::kEtherIpv4, util::kEtherArp, util::kEtherIpv6;
using util::load_be16, util::load_u8, util::store_be16;
using namespace wire;

// A burst of one second's worth of errors, then the steady rate.
Responder::Responder(ResponderConfig config)
    : config_(config), error_budget_(config.unreachable_per_second, config.unreachable_per_second) {
  // Never answer for (or from) an address no host may own: multicast, ::, ::1.
  if (config_.link_ip6 && unusable_ipv6(bytes_of(*config_.link_ip6).data()))
    config_.link_ip6.reset();
}

bool Responder::allow_error(Clock::time_point now) {
  if (error_budget_.allow(now)) return true;
  ++stats_.errors_rate_limited;
  return false;
}

// TAP replies start with an Ethernet header back to the sender, from the link MAC.
void Responder::begin_reply(util::ConstByteSpan frame, std::uint16_t ethertype) {
  begin_reply_to(frame.data() + 6, ethertype);
}

void Responder::begin_reply_to(const std::byte* mac, std::uint16_t ethertype) {
  reply_.clear();
  if (!config_.ethernet) return;
  append(reply_, mac, 6);
  append(reply_, config_.link_mac);
  reply_.resize(reply_.size() + 2);
  store_be16(reply_.data() + reply_.size() - 2, ethertype);
}

Destination destination_of(util::ConstByteSpan frame, bool ethernet) {
  Destination d;
  std::size_t l3 = ethernet ? kEthernetHeader : 0;
  if (frame.size() < l3) return d;
  if (ethernet) std::copy_n(frame.data(), d.mac.size(), d.mac.begin());
  if (frame.size() < l3 + 1) return d;
  unsigned version = util::ip_version(frame.data() + l3);
  std::size_t offset = version == 4 ? 16 : 24, size = version == 4 ? 4 : 16;
  if ((version != 4 && version != 6) || frame.size() < l3 + offset + size) return d;
  d.family = static_cast<int>(version);
  std::copy_n(frame.data() + l3 + offset, size, d.address.begin());
  return d;
}

namespace {

// One answer for every destination.
class FixedReachability final : public Reachability {
 public:
  explicit FixedReachability(bool up) : up_(up) {}
  bool peer_up_for(const Destination&) const override { return up_; }

 private:
  bool up_;
};

}  // namespace

Decision Responder::on_device_frame(util::ConstByteSpan frame, bool peer_up,
                                    Clock::time_point now) {
  return on_device_frame(frame, FixedReachability(peer_up), now);
}

Decision Responder::on_device_frame(util::ConstByteSpan frame, const Reachability& paths,
                                    Clock::time_point now) {
  bool peer_up = paths.peer_up_for(destination_of(frame, config_.ethernet));
  if (!config_.ethernet) {
    if (frame.empty()) return Decision::drop;
    switch (util::ip_version(frame.data())) {
      case 4:
        return on_ipv4(frame, 0, peer_up, now);
      case 6:
        return on_ipv6(frame, 0, peer_up, now);
      default:
        return peer_up ? Decision::forward : Decision::drop;
    }
  }
  if (frame.size() < kEthernetHeader) return Decision::drop;
  switch (load_be16(frame.data() + util::kEthernetTypeOffset)) {
    case kEtherArp:
      return on_arp(frame);
    case kEtherIpv4:
      return on_ipv4(frame, kEthernetHeader, peer_up, now);
    case kEtherIpv6:
      return on_ipv6(frame, kEthernetHeader, peer_up, now);
    default:
      return peer_up ? Decision::forward : Decision::drop;
  }
}

// ---- helpers ----------------------------------------------------------------------------

Mac mac_from_name(const std::string& name) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  Mac mac{0x02};
  for (std::size_t i = 1; i < 6; ++i) mac[i] = static_cast<std::uint8_t>(h >> (8 * i));
  return mac;
}

std::optional<Mac> parse_mac(const std::string& text) {
  Mac mac;
  unsigned b[6];
  char extra;
  if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                  &b[5], &extra) != 6)
    return std::nullopt;
  for (std::size_t i = 0; i < 6; ++i) mac[i] = static_cast<std::uint8_t>(b[i]);
  if (multicast_mac(mac[0])) return std::nullopt;
  return mac;
}

std::optional<Ipv4> parse_ipv4(const std::string& text) {
  Ipv4 ip;
  if (inet_pton(AF_INET, text.c_str(), ip.data()) != 1) return std::nullopt;
  return ip;
}

std::optional<Ipv6> parse_ipv6(const std::string& text) {
  Ipv6 ip;
  if (inet_pton(AF_INET6, text.c_str(), ip.data()) != 1) return std::nullopt;
  return ip;
}

}  // namespace tund::link
