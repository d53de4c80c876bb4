#include "tund/daemon/key_reload.hpp"

#include <algorithm>

#include "tund/crypto/keys.hpp"

namespace tund::daemon {
namespace {

std::size_t count_missing(const std::vector<crypto::Key>& from,
                          const std::vector<crypto::Key>& in) {
  return static_cast<std::size_t>(std::count_if(from.begin(), from.end(), [&](const auto& k) {
    return std::find(in.begin(), in.end(), k) == in.end();
  }));
}

std::string psk_change(const std::optional<crypto::Key>& before,
                       const std::optional<crypto::Key>& after) {
  if (before == after) return "psk unchanged";
  if (!before) return "psk added";
  return after ? "psk changed" : "psk removed";
}

}  // namespace

void KeyReloader::attach(crypto::Identity* identity, KeyMaterial current) {
  identity_ = identity;
  current_ = std::move(current);
}

std::string KeyReloader::describe_changes(const KeyMaterial& fresh) const {
  std::string text;
  if (config_.role == config::Role::server) {
    text = std::to_string(fresh.allowed.size()) + " allowed client keys (" +
           std::to_string(count_missing(fresh.allowed, current_->allowed)) + " added, " +
           std::to_string(count_missing(current_->allowed, fresh.allowed)) + " removed)";
  } else {
    text =
        fresh.peer_public == current_->peer_public ? "server key unchanged" : "server key changed";
  }
  return text + ", " + psk_change(current_->psk, fresh.psk);
}

void KeyReloader::on_sighup() {
  try {
    reload("received SIGHUP");
  } catch (const std::exception&) {  // logged by reload()
  }
}

// The error is logged here and thrown for a control client to see as well.
std::string KeyReloader::reload(const std::string& cause) {
  auto refuse = [&](util::LogLevel level, const std::string& why) {
    log_.log(level, cause + ": " + why);
    return std::runtime_error(why);
  };
  if (!config_.encrypted()) {
    std::string nothing = "nothing to reload (no encryption, so no key files)";
    log_.info(cause, ": ", nothing);
    return nothing;
  }
  if (!identity_ || !current_) {
    log_.info(cause, " during start-up: the key files are being read now");
    throw std::runtime_error("tund is starting: the key files are being read now");
  }
  KeyMaterial fresh;
  try {
    fresh = load_keys(config_);
    if (fresh.private_key != current_->private_key)
      log_.warn("SIGHUP: ", config_.private_key_file,
                " holds a different private key; not applied (it is this side's identity, "
                "which peers know by its public key): restart tund to use it");
    fresh.private_key = current_->private_key;
    // Every key is checked before anything changes (KeyError: nothing applied).
    if (fresh.peer_public) crypto::check_public_key(*fresh.peer_public, "--peer-key");
    identity_->update(fresh.allowed, fresh.psk);
  } catch (const std::exception& e) {  // KeyError, or a file that cannot be read
    throw refuse(
        util::LogLevel::warn,
        std::string("keeping the current keys, the key files have a problem: ") + e.what());
  }
  std::string done = "reloaded the key files for new handshakes: ";
  done += describe_changes(fresh);
  log_.info(cause, ": ", done);
  // After the line above: a session this ends is logged as a consequence of the reload.
  if (sessions_changed_) sessions_changed_(fresh.peer_public);
  current_ = std::move(fresh);
  return done;
}

}  // namespace tund::daemon
