// A tiny host living on the tunnel link, inside tund: it looks at each frame the kernel
// hands to tund (before it would cross the tunnel) and either lets it pass or answers it
// locally:
//   - ARP who-has for the link address (TAP)              -> ARP reply from the link MAC
//   - ICMP echo request to the link address (TUN, TAP)     -> echo reply (TTL 64)
//   - ICMPv6 echo request to the IPv6 link address         -> echo reply (hop limit 64,
//     (TUN, TAP; RFC 4443 4.1/4.2)                            from the link address)
//   - Neighbor Solicitation for the IPv6 link address      -> Neighbor Advertisement from
//     (TAP; RFC 4861 7.1.1 checks, 7.2.4 reply)               the link MAC (DAD: to ff02::1)
//   - a packet while the peer is down                      -> ICMP host unreachable
//   - a packet larger than the tunnel MTU                  -> ICMP fragmentation needed
//                                                            (IPv4 + DF) / packet too big (IPv6)
// Pure: frames in, frames out; no I/O, the time is passed in. Malformed input (short,
// bad header length or checksum, options where none belong, fragments, broadcast or
// multicast sources, an IPv6 extension-header chain that is truncated or not understood)
// is never answered.
//
// ICMP manners (RFC 1122 3.2.2, RFC 1812 4.3.2.7, RFC 4443 2.4(e)): no ICMP error is ever
// sent about a packet addressed to IPv4 limited broadcast, the directed broadcast (or
// all-zeros host) of a subnet on the device, multicast, class E, loopback or 0/8; in TAP
// about a frame sent to a link-layer broadcast/multicast MAC (IPv6 Packet Too Big
// excepted); about a non-initial fragment or an ICMP error (for IPv6 also behind
// extension headers, RFC 8200 4 / RFC 7045; a chain that is truncated or not understood
// draws no error either); or about a packet whose source is not a unicast address. An
// error is never sent from such an address either.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tund/link/ipv6_chain.hpp"
#include "tund/util/bytes.hpp"
#include "tund/util/token_bucket.hpp"

namespace tund::link {

// Addresses are values (network order, as in_addr), frames are bytes (util::ByteSpan).
using Ipv4 = std::array<std::uint8_t, 4>;
using Ipv6 = std::array<std::uint8_t, 16>;
using Mac = std::array<std::uint8_t, 6>;

// An IPv4 subnet on the device (its address and prefix length): its broadcast address
// must never draw ICMP errors.
struct Ipv4Subnet {
  Ipv4 address{};
  unsigned prefix_len = 32;
  std::optional<Ipv4> broadcast{};  // as set on the device (`ip addr ... brd X`), if any
};

struct ResponderConfig {
  bool ethernet = false;               // TAP: frames carry an Ethernet header
  std::optional<Ipv4> link_ip;         // the IPv4 address tund answers for
  std::optional<Ipv6> link_ip6;        // the IPv6 one (a unicast address; others are ignored)
  Mac link_mac{};                      // TAP: the MAC it answers from
  std::size_t tunnel_mtu = 1400;       // the largest IP packet the tunnel carries
  double unreachable_per_second = 10;  // rate limit for ICMP errors
};

struct ResponderStats {
  std::uint64_t arp_replies = 0;
  std::uint64_t echo_replies = 0;             // ICMP and ICMPv6
  std::uint64_t neighbor_advertisements = 0;  // NDP replies (TAP, IPv6 link address)
  std::uint64_t unreachable_sent = 0;
  std::uint64_t too_big_sent = 0;
  std::uint64_t errors_rate_limited = 0;
  std::uint64_t ignored_malformed = 0;  // addressed to us but not answerable
  std::uint64_t dropped_too_big = 0;    // too big and no ICMP to send (no DF, malformed)
  std::uint64_t errors_withheld = 0;    // an ICMP error was due but not allowed (broadcast...)
};

enum class Decision {
  forward,  // send it through the tunnel
  reply,    // write reply() to the device; do not forward
  drop,     // neither (too big, or addressed to the link and not answerable)
};

// Where a frame read from the device is going, as far as the responder reads it: the IP
// destination (RFC 791 bytes 16-19, RFC 8200 bytes 24-39) and, for TAP, the Ethernet
// destination. family 0: no IP destination could be read.
struct Destination {
  int family = 0;                       // 4, 6 or 0
  std::array<std::byte, 16> address{};  // IPv4: the first 4 bytes
  std::array<std::byte, 6> mac{};       // TAP only
};
// Reads it; never past the frame.
Destination destination_of(util::ConstByteSpan frame, bool ethernet);

// "Is there an up peer for this destination?": answered by the tunnel's router. Without
// one, a packet gets "destination unreachable" (or is dropped) instead of being forwarded.
class Reachability {
 public:
  virtual ~Reachability() = default;
  virtual bool peer_up_for(const Destination& destination) const = 0;
};

class Responder {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Responder(ResponderConfig config);

  // A frame read from the device (an IP packet for TUN, an Ethernet frame for TAP);
  // `paths` says whether the tunnel can carry it now.
  Decision on_device_frame(util::ConstByteSpan frame, const Reachability& paths,
                           Clock::time_point now);
  // The same, for callers with one answer for every destination (tests, fuzzing).
  Decision on_device_frame(util::ConstByteSpan frame, bool peer_up, Clock::time_point now);
  // After Decision::reply: the frame to write to the device (valid until the next call).
  util::ConstByteSpan reply() const { return reply_; }
  const ResponderStats& stats() const { return stats_; }
  const ResponderConfig& config() const { return config_; }
  // The device's MTU changed: the largest packet that crosses the tunnel (bytes).
  void set_tunnel_mtu(std::size_t mtu) { config_.tunnel_mtu = mtu; }
  // The IPv4 subnets on the device, as it has them now (addresses come and go).
  void set_local_subnets(std::vector<Ipv4Subnet> subnets) { subnets_ = std::move(subnets); }

 private:
  Decision on_arp(util::ConstByteSpan eth);
  Decision on_ipv4(util::ConstByteSpan frame, std::size_t l3, bool peer_up, Clock::time_point now);
  Decision on_ipv6(util::ConstByteSpan frame, std::size_t l3, bool peer_up, Clock::time_point now);
  // The IPv6 packet at l3 (`total` bytes, within the frame) is for the IPv6 link address:
  // an echo request is answered, anything else dropped and counted.
  Decision on_ipv6_to_link(util::ConstByteSpan frame, std::size_t l3, std::size_t total,
                           const Ipv6Chain& chain);
  Decision echo6_reply(util::ConstByteSpan frame, std::size_t l3, std::size_t icmp_at,
                       std::size_t total);
  // TAP: whether the packet is a Neighbor Solicitation whose target is the link address
  // (then it is ours, answered or dropped, never forwarded).
  bool solicits_link_address(util::ConstByteSpan frame, std::size_t l3, std::size_t total,
                             const Ipv6Chain& chain) const;
  Decision on_neighbor_solicitation(util::ConstByteSpan frame, std::size_t l3, std::size_t total,
                                    const Ipv6Chain& chain);
  // RFC 4861 7.2.4: to `ip` (16 bytes) at `mac`, for the link address.
  Decision neighbor_advertisement(const std::byte* ip, const std::byte* mac, bool solicited);
  Decision echo_reply(util::ConstByteSpan frame, std::size_t l3, std::size_t ihl,
                      std::size_t total);
  Decision icmp4_error(util::ConstByteSpan frame, std::size_t l3, std::uint8_t type,
                       std::uint8_t code, std::uint16_t mtu, Clock::time_point now);
  // RFC 4443: type 1 (destination unreachable, `param` 0) or 2 (packet too big, `param`
  // the MTU), quoting as much of the packet as fits in the IPv6 minimum MTU.
  Decision icmp6_error(util::ConstByteSpan frame, std::size_t l3, std::uint8_t type,
                       std::uint8_t code, std::uint32_t param, Clock::time_point now);
  bool allow_error(Clock::time_point now);
  bool subnet_broadcast(const std::byte* address) const;
  // `ihl`, `total`: the checked header length and total length of the packet at l3.
  bool may_report_ipv4(util::ConstByteSpan frame, std::size_t l3, std::size_t ihl,
                       std::size_t total) const;
  // `too_big`: for Packet Too Big, which may answer a frame sent to a group MAC.
  bool may_report_ipv6(util::ConstByteSpan frame, std::size_t l3, std::size_t total,
                       const Ipv6Chain& chain, bool too_big) const;
  // Starts reply_: for TAP an Ethernet header to the frame's source (or to `mac`).
  void begin_reply(util::ConstByteSpan frame, std::uint16_t ethertype);
  void begin_reply_to(const std::byte* mac, std::uint16_t ethertype);

  ResponderConfig config_;
  std::vector<Ipv4Subnet> subnets_;
  ResponderStats stats_;
  std::vector<std::byte> reply_;
  util::TokenBucket error_budget_;  // ICMP errors: unreachable_per_second, burst of as many
};

// "02:xx:xx:xx:xx:xx": locally administered, unicast, derived from the interface name so
// it is the same after every restart.
Mac mac_from_name(const std::string& name);
std::optional<Mac> parse_mac(const std::string& text);
std::optional<Ipv4> parse_ipv4(const std::string& text);
// An IPv6 address in any form inet_pton(AF_INET6) takes ("fd00::1"); nullopt otherwise.
std::optional<Ipv6> parse_ipv6(const std::string& text);

}  // namespace tund::link
