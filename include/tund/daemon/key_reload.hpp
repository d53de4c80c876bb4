// SIGHUP: re-read the key files and apply what can change without a restart.
//
// Applied to handshakes from the moment of the reload: the allow-list (--allow files and
// --allow-file lists: a newly listed client gets in at its next handshake, a removed one
// loses its session at once and cannot authenticate again), the psk, and a client's
// --peer-key file. Not applied: a changed private key (it is this side's identity; peers
// know it by its public key, so it is refused with a log line: restart tund to use it).
// A reload that finds a bad or unreadable key changes nothing and says why.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "tund/config/config.hpp"
#include "tund/crypto/identity.hpp"
#include "tund/daemon/key_material.hpp"
#include "tund/util/log.hpp"

namespace tund::daemon {

class KeyReloader {
 public:
  KeyReloader(const config::Config& config, util::Logger& log) : config_(config), log_(log) {}

  // Told the server's key (client) after the identity took the new keys, so the sessions
  // follow: see tunnel::Engine::keys_changed.
  using SessionsChanged = std::function<void(std::optional<crypto::Key> peer_public)>;

  // The identity the keys go to and the keys it runs with (after start-up).
  void attach(crypto::Identity* identity, KeyMaterial current);
  void on_sessions_changed(SessionsChanged handler) { sessions_changed_ = std::move(handler); }
  // Logs one line saying what was reloaded, or why nothing was.
  void on_sighup();
  // The same for `cause` ("received SIGHUP", "control socket: reload"): logs "CAUSE: what
  // was reloaded" and returns what was reloaded; or logs why nothing was and throws
  // std::runtime_error saying it (one line).
  std::string reload(const std::string& cause);

 private:
  std::string describe_changes(const KeyMaterial& fresh) const;

  const config::Config& config_;
  util::Logger& log_;
  crypto::Identity* identity_ = nullptr;
  SessionsChanged sessions_changed_;
  std::optional<KeyMaterial> current_;
};

}  // namespace tund::daemon
