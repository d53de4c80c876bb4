// The allowed-ips table of hub mode: a longest-prefix match from an IPv4 or IPv6 address
// to the peer that owns it (WireGuard's cryptokey routing, its allowedips.c; CIDR prefixes
// and longest-match selection as RFC 4632 section 5.1). The engine uses it both ways: a
// device packet's destination picks the peer to send to, and a peer's decrypted packet is
// delivered only if its source looks up to that same peer (anything else is spoofed).
//
// A peer is an opaque PeerId; the table does no I/O and knows nothing else about peers.
//
// Structure: per family, one hash map keyed by (masked address, length), plus the list of
// lengths present, longest first. A lookup masks the address to each present length in
// turn and stops at the first hit.
//   lookup        O(L) expected hash probes, L = distinct prefix lengths present in that
//                 family (at most 33 for IPv4, 129 for IPv6); never allocates.
//   insert        O(1) expected (+ O(W) to refresh the length list; W = 32 or 128).
//   remove_peer   O(n) over all n prefixes of the family tables.
//   prefixes_of   O(n + k log k) for the peer's k prefixes (returned sorted).
// The hash keys are configured prefixes, not packet contents, so a remote sender cannot
// choose collisions: a hostile address costs the same L probes as any other.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "tund/util/bytes.hpp"
#include "tund/util/ip_prefix.hpp"

namespace tund::tunnel {

using PeerId = std::uint32_t;

// The prefix types are util's (util/ip_prefix.hpp), shared with the peer-file parser.
using util::address_size;
using util::IpFamily;
using util::IpPrefix;
using util::max_prefix_length;

class AllowedIps {
 public:
  // Makes `peer` the owner of address/length (host bits are cleared first, so 10.1.2.3/8
  // is 10.0.0.0/8). An existing identical prefix changes owner (as `wg set` does).
  // Returns false, changing nothing, when address.size() is not address_size(family) or
  // length exceeds max_prefix_length(family).
  [[nodiscard]] bool insert(IpFamily family, util::ConstByteSpan address, unsigned length,
                            PeerId peer);
  [[nodiscard]] bool insert(const IpPrefix& prefix, PeerId peer) {
    return insert(prefix.family, {prefix.address.data(), address_size(prefix.family)},
                  prefix.length, peer);
  }
  // Removes every prefix of `peer`; returns how many.
  std::size_t remove_peer(PeerId peer);
  // The owner of the longest prefix containing `address`, or none (also when
  // address.size() is not address_size(family)). Does not allocate.
  std::optional<PeerId> lookup(IpFamily family, util::ConstByteSpan address) const;
  // The prefixes `peer` owns, IPv4 first, then by address and length.
  std::vector<IpPrefix> prefixes_of(PeerId peer) const;
  // Prefixes of both families.
  std::size_t size() const { return v4_.size() + v6_.size(); }

 private:
  // An address as 128 bits, most significant first; IPv4 occupies the top 32.
  struct Bits {
    std::uint64_t hi = 0, lo = 0;
    friend bool operator==(const Bits&, const Bits&) = default;
  };
  struct Key {
    Bits bits;
    unsigned length = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& key) const;
  };
  // One family's prefixes.
  class Family {
   public:
    explicit Family(IpFamily family) : family_(family) {}
    void insert(Bits bits, unsigned length, PeerId peer);
    std::size_t remove_peer(PeerId peer);
    std::optional<PeerId> lookup(Bits bits) const;
    void collect(PeerId peer, std::vector<IpPrefix>& out) const;
    std::size_t size() const { return owners_.size(); }

   private:
    void refresh_lengths();
    IpFamily family_;
    std::unordered_map<Key, PeerId, KeyHash> owners_;
    std::array<std::uint32_t, 129> per_length_{};  // prefixes of each length
    std::vector<std::uint8_t> lengths_;            // lengths present, longest first
  };

  static Bits load(IpFamily family, util::ConstByteSpan address);
  static Bits mask(Bits bits, unsigned length);
  Family& table(IpFamily family) { return family == IpFamily::v4 ? v4_ : v6_; }
  const Family& table(IpFamily family) const { return family == IpFamily::v4 ? v4_ : v6_; }

  Family v4_{IpFamily::v4}, v6_{IpFamily::v6};
};

}  // namespace tund::tunnel
