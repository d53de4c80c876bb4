// Why the engine dropped a frame or message: a typed reason with a name, counted per
// reason. The names are those of the stats line (SIGUSR1 and at exit).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tund::tunnel {

enum class Drop : std::uint8_t {
  no_peer,       // read from the device while no peer was up
  malformed,     // received frames that were not a plausible packet of the link's kind
  device_down,   // received while the interface was down
  too_big,       // read from the device larger than the tunnel MTU
  bad_datagram,  // datagrams of the wrong shape, or encrypted ones on a plaintext side
  refused,       // encrypted messages the identity or a session refused
  rate_limited,  // handshake initiations over the per-source limit
  oversize,      // datagrams whose frame is longer than the wire format allows
  spoofed,       // hub: a peer's packet whose source is outside that peer's allowed-ips
  queue_full,    // hub: a stalled peer's outbound queue was full
  link_local,    // hub (TUN): a peer's IPv6 packet from a link-local source (fe80::/10)
};
inline constexpr std::size_t kDropReasons = 11;

// "no-peer", "malformed", "device-down", "too-big", "bad-datagram", "refused",
// "rate-limited", "oversize", "spoofed", "queue-full", "link-local".
const char* name(Drop reason);

class DropCounters {
 public:
  void add(Drop reason) { ++counts_[index(reason)]; }
  std::uint64_t operator[](Drop reason) const { return counts_[index(reason)]; }

 private:
  static std::size_t index(Drop reason) { return static_cast<std::size_t>(reason); }
  std::array<std::uint64_t, kDropReasons> counts_{};
};

}  // namespace tund::tunnel
