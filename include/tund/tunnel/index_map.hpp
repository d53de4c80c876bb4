// The hub's map from a session's local index (the receiver index of WireGuard's message
// format, docs/PROTOCOL.md) to the peer whose session owns it: a response or transport
// message finds its peer in O(1), and two peers' sessions can never hold the same index
// (each draw is claimed here; a taken one is drawn again).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "tund/crypto/session.hpp"

namespace tund::tunnel {

class Peer;

class IndexMap {
 public:
  Peer* find(std::uint32_t index) const {
    auto it = owners_.find(index);
    return it == owners_.end() ? nullptr : it->second;
  }
  bool claim(std::uint32_t index, Peer* owner) { return owners_.emplace(index, owner).second; }
  // Only the owner's claim is released (a stale release cannot free another's index).
  void release(std::uint32_t index, const Peer* owner) {
    auto it = owners_.find(index);
    if (it != owners_.end() && it->second == owner) owners_.erase(it);
  }
  std::size_t size() const { return owners_.size(); }

 private:
  std::unordered_map<std::uint32_t, Peer*> owners_;
};

// One peer's view of the map, handed to its crypto::Session.
class PeerIndices final : public crypto::IndexRegistry {
 public:
  PeerIndices(IndexMap& map, Peer* owner) : map_(map), owner_(owner) {}
  bool claim(std::uint32_t index) override { return map_.claim(index, owner_); }
  void release(std::uint32_t index) override { map_.release(index, owner_); }

 private:
  IndexMap& map_;
  Peer* owner_;
};

}  // namespace tund::tunnel
