// Every key the configuration names, read from its file or option and checked: the one
// place start-up and SIGHUP reload get keys from, so both refuse the same bad input.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tund/config/config.hpp"
#include "tund/crypto/primitives.hpp"

namespace tund::daemon {

struct KeyMaterial {
  crypto::Key private_key{};
  crypto::Key public_key{};                // of private_key: what the peer must be given
  std::optional<crypto::Key> peer_public;  // client: the server's key (--peer-key)
  std::vector<crypto::Key> allowed;        // server: --allow and every --allow-file entry
  std::optional<crypto::Key> psk;          // --psk
};

// Reads and checks every key (crypto/keys.hpp: low-order, all-zero, malformed and
// unreadable keys are refused), and refuses a private key that is one of the public keys
// configured for the peer (a public key file given as --private-key). Requires
// cfg.encrypted() and crypto::init_sodium(). Throws crypto::KeyError with a one-line
// message that starts with the option ("--allow: ..."), after the config file line the
// value came from ("/etc/tund/x.conf line 5: --allow: ...").
KeyMaterial load_keys(const config::Config& cfg);

// Settings that work but are most likely mistakes, one line each: this side's own public
// key given as the peer's (--peer-key) or allowed as a client (--allow).
std::vector<std::string> key_warnings(const config::Config& cfg, const KeyMaterial& keys);

}  // namespace tund::daemon
