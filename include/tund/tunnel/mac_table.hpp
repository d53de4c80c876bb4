// The learning switch of TAP hub mode (as a Linux bridge's forwarding database, OpenVPN's
// server-bridge and tinc's switch mode; IEEE 802.1D learning and ageing). The device and
// every peer are ports, known by an opaque PortId. Source MACs of authenticated frames are
// learned per port; a frame to a learned MAC goes to that port only, everything else is
// flooded to every up port but the one it came from.
//
// Pure: no I/O and no clock reads; the caller passes the time. Limits (proto/timers.hpp):
// an entry unseen for kMacAgeing is expired (lookups ignore it); a port holds at most
// kMacsPerPort MACs, and learning one more evicts the port's least recently seen MAC, so
// one peer spraying source MACs only churns its own entries.
//
// Structure: a hash map MAC -> entry, and per port a list of its MACs, least recently seen
// first. learn, lookup and forward are O(1) expected; learning a MAC again on its own port
// (the data path's common case), lookup and forward never allocate (a move splices the
// existing list node; only a new MAC, or a first MAC on a port, allocates). forget_port is
// O(MACs of the port); expire is O(entries expired).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "tund/util/clock.hpp"

namespace tund::tunnel {

using PortId = std::uint32_t;
// Six bytes in wire order (an Ethernet header's destination at 0, source at 6).
using MacBytes = std::span<const std::byte, 6>;

// Broadcast and multicast addresses have the I/G bit (bit 0 of the first byte) set.
constexpr bool is_group_mac(MacBytes mac) {
  return (std::to_integer<unsigned>(mac[0]) & 1u) != 0;
}

enum class Learned : std::uint8_t {
  added,      // a new MAC on this port
  refreshed,  // already on this port: its age starts over
  moved,      // was on another port (the host roamed, or a loop)
  refused,    // a group or all-zero source MAC: no frame can legitimately come from it
};

// Where a frame goes. The engine asks sends_to for each of its up ports, so the flooding
// rule lives here once.
struct Forward {
  enum class Kind : std::uint8_t { one_port, flood, drop };
  Kind kind = Kind::drop;
  PortId port = 0;     // one_port: the port
  PortId ingress = 0;  // the port the frame came from: never sent back there
  bool sends_to(PortId candidate) const {
    if (kind == Kind::one_port) return candidate == port;
    return kind == Kind::flood && candidate != ingress;
  }
};

class MacTable {
 public:
  using time_point = util::Clock::time_point;

  // A frame with source `mac` arrived on `port` at `now`.
  Learned learn(MacBytes mac, PortId port, time_point now);
  // The port `mac` was last seen on, unless that was kMacAgeing or more before `now`.
  std::optional<PortId> lookup(MacBytes mac, time_point now) const;
  // Forgets every MAC of `port` (a peer removed or disconnected); returns how many.
  std::size_t forget_port(PortId port);
  // Drops expired entries (lookups already ignore them; this returns their memory). For
  // a periodic timer; returns how many.
  std::size_t expire(time_point now);
  // The MACs learned on `port` and not expired at `now`, least recently seen first (six
  // bytes each, wire order). O(MACs of the port); for status reports, not the data path.
  std::vector<std::array<std::byte, 6>> macs_of(PortId port, time_point now) const;
  // Entries held, expired ones not yet dropped included.
  std::size_t size() const { return entries_.size(); }

 private:
  using Key = std::uint64_t;     // the six bytes, big-endian
  using Order = std::list<Key>;  // one port's MACs, least recently seen first
  struct Entry {
    PortId port;
    time_point seen;
    Order::iterator place;  // in ports_[port]
  };
  static Key key_of(MacBytes mac);
  static bool expired(time_point seen, time_point now);
  Learned add(Key key, PortId port, time_point now);
  Learned relearn(Entry& entry, PortId port, time_point now);
  void erase(std::unordered_map<Key, Entry>::iterator it);

  std::unordered_map<Key, Entry> entries_;
  std::unordered_map<PortId, Order> ports_;
};

// The switching decision for a frame to `destination` that arrived on `ingress`:
// broadcast, multicast and unknown (or expired) unicast flood to every port but the
// ingress; a known unicast goes to its port, or nowhere when that is the ingress itself
// (the destination is on the segment the frame came from).
Forward forward(const MacTable& table, MacBytes destination, PortId ingress,
                util::Clock::time_point now);

}  // namespace tund::tunnel
