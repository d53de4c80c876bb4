#include "tund/daemon/hub_peers.hpp"

#include <algorithm>

#include "tund/config/threads.hpp"
#include "tund/crypto/keys.hpp"

namespace tund::daemon {
namespace {

std::string where(const config::PeerSpec& peer, const std::string& key) {
  auto line = peer.lines.find(key);
  std::string file = peer.file.empty() ? peer.name : peer.file;
  if (line == peer.lines.end()) return file + ": " + key + ": ";
  return file + " line " + std::to_string(line->second) + ": " + key + ": ";
}

template <class Load>
auto for_key(const config::PeerSpec& peer, const std::string& key, Load load) {
  try {
    return load();
  } catch (const crypto::KeyError& e) {
    throw crypto::KeyError(where(peer, key) + e.what());
  }
}

tunnel::HubPeerSpec spec_of(const config::Config& cfg, const config::PeerSpec& peer,
                            const std::vector<crypto::Key>& known) {
  tunnel::HubPeerSpec spec;
  spec.name = peer.name;
  spec.public_key = for_key(peer, "public-key", [&] {
    crypto::Key key = crypto::key_from_base64(peer.public_key, "the key");
    if (!std::binary_search(known.begin(), known.end(), key))
      crypto::check_public_key(key, "the key");  // a scalar multiplication: new keys only
    return key;
  });
  spec.allowed_ips = peer.allowed_ips;
  if (!peer.psk_file.empty())
    spec.psk = for_key(peer, "psk", [&] { return crypto::read_secret_key_file(peer.psk_file); });
  spec.keepalive = peer.keepalive.value_or(cfg.keepalive);
  return spec;
}

}  // namespace

std::vector<tunnel::HubPeerSpec> hub_peer_specs(const config::Config& cfg,
                                                const std::vector<crypto::Key>& known) {
  std::vector<tunnel::HubPeerSpec> specs;
  for (const auto& peer : cfg.peers)
    if (!peer.disabled) specs.push_back(spec_of(cfg, peer, known));
  return specs;
}

std::vector<std::string> needs_restart(const config::Config& running, const config::Config& fresh) {
  std::vector<std::string> changed;
  auto note = [&](bool differs, const char* option) {
    if (differs) changed.emplace_back(option);
  };
  note(running.role != fresh.role, "server/client");
  note(running.transport != fresh.transport, "udp/tcp");
  note(running.device != fresh.device, "tun/tap");
  note(running.iface != fresh.iface, "iface");
  note(running.port != fresh.port, "port");
  note(running.listen != fresh.listen, "listen");
  note(running.private_key_file != fresh.private_key_file, "private-key");
  note(running.psk_file != fresh.psk_file, "psk");
  note(running.cipher != fresh.cipher, "cipher");
  note(running.addresses != fresh.addresses, "address/peer");
  note(running.link_ip != fresh.link_ip || running.link_ip6 != fresh.link_ip6, "link-ip");
  note(running.mtu != fresh.mtu, "mtu");
  note(running.max_peers != fresh.max_peers, "max-peers");
  note(running.routes != fresh.routes, "routes");
  // As run: "auto" and the CPU count it stands for are the same (the same pool).
  note(config::effective_threads(running.threads) != config::effective_threads(fresh.threads),
       "threads");
  return changed;
}

}  // namespace tund::daemon
