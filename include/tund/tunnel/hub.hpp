// Hub mode's configuration as the engine takes it: one entry per enabled peer (the daemon
// builds them from the peers directory, config::PeerSpec, with keys decoded and psk files
// read), and the diff a reload applies (peers are matched by public key, as WireGuard's
// `wg syncconf` does: a renamed file with the same key is the same peer).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tund/crypto/keys.hpp"
#include "tund/proto/timers.hpp"
#include "tund/util/ip_prefix.hpp"

namespace tund::tunnel {

struct HubPeerSpec {
  std::string name;                         // the peer file's name: logs and status show it
  crypto::Key public_key{};                 // how the peer is known (a usable curve point)
  std::vector<util::IpPrefix> allowed_ips;  // TUN: what it may send from, and is routed to
  std::optional<crypto::Key> psk;           // its own psk (IKpsk2), else the identity's
  std::chrono::milliseconds keepalive = proto::kDefaultKeepalive;
  friend bool operator==(const HubPeerSpec&, const HubPeerSpec&) = default;
};

// What a reload changes, by peer name (the new name for a renamed peer).
struct HubChanges {
  std::vector<std::string> added, removed, changed;
  std::size_t unchanged = 0;
  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

// Matches peers by public key: in `next` only -> added; in `current` only -> removed;
// in both with any field different -> changed; else unchanged.
HubChanges diff_hub(const std::vector<HubPeerSpec>& current, const std::vector<HubPeerSpec>& next);
// "3 peers: added carol; removed bob; changed alice; 1 unchanged".
std::string describe(const HubChanges& changes, std::size_t peers);

}  // namespace tund::tunnel
