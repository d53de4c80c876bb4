#include "tund/daemon/key_material.hpp"

#include <algorithm>

#include "tund/crypto/keys.hpp"

namespace tund::daemon {
namespace {

// Runs `load`, naming the option (and the config file line) in its error.
template <class Load>
auto for_option(const config::Config& cfg, const std::string& option, std::size_t index,
                Load load) {
  try {
    return load();
  } catch (const crypto::KeyError& e) {
    throw crypto::KeyError(cfg.sources.prefix(option, index) + "--" + option + ": " + e.what());
  }
}

// Two files swapped, or the peer's public key file given as --private-key: a private key
// that equals a configured public key can only be a public key.
void refuse_public_as_private(const config::Config& cfg, const KeyMaterial& keys) {
  bool is_peer_key = keys.peer_public == keys.private_key;
  bool is_allowed =
      std::find(keys.allowed.begin(), keys.allowed.end(), keys.private_key) != keys.allowed.end();
  if (!is_peer_key && !is_allowed) return;
  throw crypto::KeyError(
      cfg.sources.prefix("private-key") + "--private-key: " + cfg.private_key_file +
      " holds the public key given as " + (is_peer_key ? "--peer-key" : "--allow") +
      ", not this side's private key (files swapped?)");
}

}  // namespace

KeyMaterial load_keys(const config::Config& cfg) {
  KeyMaterial keys;
  keys.private_key = for_option(cfg, "private-key", 0,
                                [&] { return crypto::read_secret_key_file(cfg.private_key_file); });
  keys.public_key = crypto::x25519_public(keys.private_key);
  if (cfg.role == config::Role::client)
    keys.peer_public =
        for_option(cfg, "peer-key", 0, [&] { return crypto::read_public_key(cfg.peer_key); });
  for (std::size_t i = 0; i < cfg.allow.size(); ++i)
    keys.allowed.push_back(
        for_option(cfg, "allow", i, [&] { return crypto::read_public_key(cfg.allow[i]); }));
  for (std::size_t i = 0; i < cfg.allow_files.size(); ++i)
    for (const auto& key : for_option(cfg, "allow-file", i,
                                      [&] { return crypto::read_allow_file(cfg.allow_files[i]); }))
      keys.allowed.push_back(key);
  // The parser requires --allow or --allow-file on a server: only empty files get here.
  if (cfg.role == config::Role::server && !cfg.hub() && keys.allowed.empty())
    throw crypto::KeyError(
        cfg.sources.prefix("allow-file") + "--allow-file: no allowed client keys (" +
        (cfg.allow_files.empty() ? std::string("none given")
                                 : "allow file " + cfg.allow_files.back() + " holds no keys") +
        ")");
  if (!cfg.psk_file.empty())
    keys.psk =
        for_option(cfg, "psk", 0, [&] { return crypto::read_secret_key_file(cfg.psk_file); });
  refuse_public_as_private(cfg, keys);
  return keys;
}

std::vector<std::string> key_warnings(const config::Config& cfg, const KeyMaterial& keys) {
  std::vector<std::string> warnings;
  if (keys.peer_public == keys.public_key)
    warnings.push_back(cfg.sources.prefix("peer-key") +
                       "--peer-key is this side's own public key: the server needs a key pair "
                       "of its own");
  if (std::find(keys.allowed.begin(), keys.allowed.end(), keys.public_key) != keys.allowed.end())
    warnings.push_back(std::string(cfg.hub() ? "--peers-dir: a peer file holds"
                                             : "--allow/--allow-file: the allowed keys include") +
                       " the server's own public key: a client holding the server's private "
                       "key may connect");
  return warnings;
}

}  // namespace tund::daemon
