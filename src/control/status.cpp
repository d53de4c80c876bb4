#include "tund/control/status.hpp"

#include <algorithm>

namespace tund::control {

std::size_t peers_up(const InterfaceStatus& status) {
  return static_cast<std::size_t>(
      std::count_if(status.peers.begin(), status.peers.end(), [](const auto& p) { return p.up; }));
}

const char* state(const PeerStatus& peer) {
  if (peer.disabled) return "disabled";
  return peer.up ? "up" : "down";
}

}  // namespace tund::control
