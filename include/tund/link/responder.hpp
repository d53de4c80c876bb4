// A tiny host living on the tunnel link, inside tund: it looks at each frame the kernel
// hands to tund (before it would cross the tunnel) and either lets it pass or answers it
// locally:
//   - ARP who-has for the link address (TAP)              -> ARP reply from the link MAC
//   - ICMP echo request to the link address (TUN, TAP)     -> echo reply (TTL 64)
//   - a packet while the peer is down                      -> ICMP host unreachable
//   - a packet larger than the tunnel MTU                  -> ICMP fragmentation needed
//                                                            (IPv4 + DF) / packet too big (IPv6)
// Pure: frames in, frames out; no I/O, the time is passed in. Malformed input (short,
// bad header length or checksum, options where none belong, fragments, broadcast or
// multicast sources) is never answered.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tund::link {

using Ipv4 = std::array<std::uint8_t, 4>;
using Mac = std::array<std::uint8_t, 6>;

struct ResponderConfig {
  bool ethernet = false;               // TAP: frames carry an Ethernet header
  std::optional<Ipv4> link_ip;         // the address tund answers for
  Mac link_mac{};                      // TAP: the MAC it answers from
  std::size_t tunnel_mtu = 1400;       // the largest IP packet the tunnel carries
  double unreachable_per_second = 10;  // rate limit for ICMP errors
};

struct ResponderStats {
  std::uint64_t arp_replies = 0;
  std::uint64_t echo_replies = 0;
  std::uint64_t unreachable_sent = 0;
  std::uint64_t too_big_sent = 0;
  std::uint64_t errors_rate_limited = 0;
  std::uint64_t ignored_malformed = 0;  // addressed to us but not answerable
  std::uint64_t dropped_too_big = 0;    // too big and no ICMP to send (no DF, malformed)
};

enum class Decision {
  forward,  // send it through the tunnel
  reply,    // write reply() to the device; do not forward
  drop,     // neither (too big, or addressed to the link and not answerable)
};

class Responder {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Responder(ResponderConfig config);

  // A frame read from the device. `peer_up`: whether the tunnel can carry it now.
  Decision on_device_frame(std::span<const std::uint8_t> frame, bool peer_up,
                           Clock::time_point now);
  std::span<const std::uint8_t> reply() const { return reply_; }
  const ResponderStats& stats() const { return stats_; }
  const ResponderConfig& config() const { return config_; }

 private:
  Decision on_arp(std::span<const std::uint8_t> eth);
  Decision on_ipv4(std::span<const std::uint8_t> frame, std::size_t l3, bool peer_up,
                   Clock::time_point now);
  Decision on_ipv6(std::span<const std::uint8_t> frame, std::size_t l3, bool peer_up,
                   Clock::time_point now);
  Decision echo_reply(std::span<const std::uint8_t> frame, std::size_t l3, std::size_t ihl,
                      std::size_t total);
  Decision icmp4_error(std::span<const std::uint8_t> frame, std::size_t l3, std::uint8_t type,
                       std::uint8_t code, std::uint16_t mtu, Clock::time_point now);
  Decision icmp6_too_big(std::span<const std::uint8_t> frame, std::size_t l3,
                         Clock::time_point now);
  bool allow_error(Clock::time_point now);
  void begin_reply(std::span<const std::uint8_t> frame, std::uint16_t ethertype);

  ResponderConfig config_;
  ResponderStats stats_;
  std::vector<std::uint8_t> reply_;
  double tokens_;
  Clock::time_point last_refill_{};
};

// "02:xx:xx:xx:xx:xx": locally administered, unicast, derived from the interface name so
// it is the same after every restart.
Mac mac_from_name(const std::string& name);
std::optional<Mac> parse_mac(const std::string& text);
std::optional<Ipv4> parse_ipv4(const std::string& text);

}  // namespace tund::link
