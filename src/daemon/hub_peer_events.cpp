// Hub mode: a peer's session came up or ended. Its peer file's `up` / `down` hook runs
// (daemon/peer_hooks.hpp), and at shutdown the `down` hook of every peer still up.
#include <algorithm>

#include "daemon_impl.hpp"
#include "tund/crypto/keys.hpp"
#include "tund/daemon/hooks.hpp"

namespace tund::daemon {
namespace {

std::string allowed_ips_text(const config::PeerSpec& peer) {
  std::string text;
  for (const auto& prefix : peer.allowed_ips) {
    if (!text.empty()) text += ' ';
    text += util::to_string(prefix);
  }
  return text;
}

}  // namespace

const config::PeerSpec* Daemon::peer_file(const std::string& name) const {
  const config::Config& cfg = hub_cfg_ ? *hub_cfg_ : cfg_;
  auto it = std::find_if(cfg.peers.begin(), cfg.peers.end(),
                         [&](const config::PeerSpec& p) { return p.name == name; });
  return it == cfg.peers.end() ? nullptr : &*it;
}

std::vector<std::string> Daemon::peer_hook_environment(const tunnel::Peer& peer,
                                                       const config::PeerSpec& file,
                                                       const std::string& endpoint) const {
  auto env = hook_environment({hub_cfg_ ? &*hub_cfg_ : &cfg_, dev_->name(), dev_->mtu()});
  env.push_back("TUND_PEER_NAME=" + file.name);
  env.push_back("TUND_PEER_KEY=" +
                (peer.public_key() ? crypto::to_base64(*peer.public_key()) : ""));
  env.push_back("TUND_PEER_ENDPOINT=" + endpoint);
  env.push_back("TUND_PEER_ALLOWED_IPS=" + allowed_ips_text(file));
  return env;
}

void Daemon::on_hub_peer(const tunnel::Peer& peer, bool up) {
  const std::string& name = peer.configured_name();
  // The endpoint is gone by the time a session ends: the down hook gets the last one.
  std::string endpoint = peer.endpoint() ? transport::to_string(*peer.endpoint()) : "";
  if (up)
    peer_endpoints_[name] = endpoint;
  else if (auto it = peer_endpoints_.find(name); it != peer_endpoints_.end())
    endpoint = std::exchange(it->second, {});
  const config::PeerSpec* file = peer_file(name);
  if (!file) return;
  const std::string& command = up ? file->up_command : file->down_command;
  if (command.empty()) return;
  peer_hooks_.run("peer " + name + (up ? " up" : " down"), command,
                  peer_hook_environment(peer, *file, endpoint));
}

// Shutdown ends every session: the peers still up get their down hook, one at a time,
// each within kPeerHookTimeout, before tund's own --down.
void Daemon::run_peer_down_hooks() {
  peer_hooks_.stop();
  if (!engine_ || !engine_->hub()) return;
  HookLimits limits;
  limits.timeout = kPeerHookTimeout;
  for (const auto& peer : engine_->peers()) {
    const config::PeerSpec* file = peer_file(peer->configured_name());
    if (!peer->up() || !file || file->down_command.empty()) continue;
    std::string endpoint = peer->endpoint() ? transport::to_string(*peer->endpoint()) : "";
    try {
      run_hook(io_, "peer " + file->name + " down", file->down_command,
               peer_hook_environment(*peer, *file, endpoint), log_, limits);
    } catch (const std::exception& e) {
      log_.error("hook peer ", file->name, " down could not run: ", e.what());
    }
  }
}

}  // namespace tund::daemon
