// Hub mode's peers: adding, removing and updating them (at start and on reload), and
// what follows a hub peer coming or going.
#include <algorithm>
#include <map>

#include "tund/crypto/keys.hpp"
#include "tund/tunnel/engine.hpp"

namespace tund::tunnel {

Peer& Engine::add_hub_peer(const HubPeerSpec& spec) {
  PeerConfig config = hub_template_;
  config.initiator = false;
  config.keepalive = spec.keepalive;
  if (config.session) config.session->psk = spec.psk;
  config.name = spec.name;
  config.public_key = spec.public_key;
  config.index_map = &indices_;
  config.id = next_id_++;
  auto peer =
      std::make_unique<Peer>(std::move(config), transport_, identity_, log_, clock_, hub_backoff_);
  Peer* p = peer.get();
  p->set_state_handler([this, p](bool up) { on_peer_state(*p, up); });
  by_key_.emplace(spec.public_key, p);
  by_id_.emplace(p->id(), p);
  route_prefixes(*p, spec.allowed_ips);
  peers_.push_back(std::move(peer));
  return *p;
}

void Engine::route_prefixes(const Peer& peer, const std::vector<util::IpPrefix>& prefixes) {
  allowed_ips_.remove_peer(peer.id());
  // The config parser hands only valid prefixes; one that is not is skipped, not fatal.
  for (const auto& prefix : prefixes)
    if (!allowed_ips_.insert(prefix, peer.id()))
      log_.warn("peer ", peer.configured_name(), ": an allowed-ips prefix of length ",
                prefix.length, " is not valid for its family; ignored");
}

// Cut at once: its sessions wiped (indices released), its connection closed, its routes
// and learned MACs forgotten; the observer hears it go down if it was up.
void Engine::remove_hub_peer(const crypto::Key& key) {
  Peer* peer = peer_for_key(key);
  if (!peer) return;
  peer->cut("its peer was removed from the hub");
  allowed_ips_.remove_peer(peer->id());
  macs_.forget_port(peer->id());
  std::erase(backlogged_, peer);
  by_key_.erase(key);
  by_id_.erase(peer->id());
  std::erase_if(peers_, [peer](const auto& p) { return p.get() == peer; });
}

// A key given in base64 is compared as text: the peer's key encoded, never decoded input
// (a malformed one simply matches nothing).
Engine::Disconnected Engine::disconnect(const std::string& name) {
  settle();
  auto key_is = [&name](const std::optional<crypto::Key>& key) {
    return key && crypto::to_base64(*key) == name;
  };
  for (auto& peer : peers_) {
    bool named =
        hub_ ? peer->configured_name() == name : name == (initiator_ ? "server" : "client");
    const crypto::Session* session = peer->session();
    std::optional<crypto::Key> key = peer->public_key();
    if (!key && session) key = session->peer_key();
    if (!named && !key_is(key)) continue;
    Disconnected result{true, peer->up() || peer->endpoint().has_value(),
                        hub_ ? peer->configured_name() : (initiator_ ? "server" : "client")};
    if (result.was_connected) peer->disconnect("disconnected by the operator");
    return result;
  }
  return {};
}

void Engine::update_hub_peer(Peer& peer, const HubPeerSpec& spec) {
  peer.rename(spec.name);
  peer.set_keepalive(spec.keepalive);
  route_prefixes(peer, spec.allowed_ips);
  peer.set_psk(spec.psk);
}

HubChanges Engine::set_hub_peers(std::vector<HubPeerSpec> peers) {
  settle();
  HubChanges changes = diff_hub(hub_specs_, peers);
  if (identity_) {  // first: it may throw, and then nothing has changed
    std::vector<crypto::Key> keys;
    for (const auto& p : peers) keys.push_back(p.public_key);
    identity_->update(std::move(keys), identity_->psk());
  }
  std::map<crypto::Key, const HubPeerSpec*> next, before;
  for (const auto& p : peers) next.emplace(p.public_key, &p);
  for (const auto& old : hub_specs_) {
    before.emplace(old.public_key, &old);
    if (!next.count(old.public_key)) remove_hub_peer(old.public_key);
  }
  for (const auto& p : peers) {
    Peer* peer = peer_for_key(p.public_key);
    auto old = before.find(p.public_key);
    if (!peer)
      add_hub_peer(p);
    else if (old == before.end() || !(*old->second == p))  // unchanged peers: untouched
      update_hub_peer(*peer, p);
  }
  hub_specs_ = std::move(peers);
  return changes;
}

// A peer that went down takes its queue and its learned MACs with it (frames for it are
// flooded again, or get "unreachable").
void Engine::on_hub_peer_state(Peer& peer, bool up) {
  if (up) {
    ++peers_up_;
    return;
  }
  if (peers_up_ > 0) --peers_up_;
  std::size_t dropped = peer.queue().clear();
  for (std::size_t i = 0; i < dropped; ++i) stats_.dropped.add(Drop::no_peer);
  std::erase(backlogged_, &peer);
  if (ethernet_) macs_.forget_port(peer.id());
}

}  // namespace tund::tunnel
