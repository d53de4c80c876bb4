#include "tund/daemon/key_material.hpp"

#include "tund/crypto/keys.hpp"

namespace tund::daemon {
namespace {

crypto::Key option_key(const std::string& option, const std::string& key_or_file) {
  try {
    return crypto::read_public_key(key_or_file);
  } catch (const crypto::KeyError& e) {
    throw crypto::KeyError(option + ": " + e.what());
  }
}

}  // namespace

KeyMaterial load_keys(const config::Config& cfg) {
  KeyMaterial keys;
  keys.private_key = crypto::read_secret_key_file(cfg.private_key_file);
  if (cfg.role == config::Role::client) keys.peer_public = option_key("--peer-key", cfg.peer_key);
  for (const auto& key : cfg.allow) keys.allowed.push_back(option_key("--allow", key));
  for (const auto& file : cfg.allow_files)
    for (const auto& key : crypto::read_allow_file(file)) keys.allowed.push_back(key);
  if (cfg.role == config::Role::server && keys.allowed.empty())
    throw crypto::KeyError("no allowed client keys (--allow / --allow-file are empty)");
  if (!cfg.psk_file.empty()) keys.psk = crypto::read_secret_key_file(cfg.psk_file);
  return keys;
}

}  // namespace tund::daemon
