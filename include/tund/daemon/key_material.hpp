// Every key the configuration names, read from its file or option and checked: the one
// place start-up and SIGHUP reload get keys from, so both refuse the same bad input.
#pragma once

#include <optional>
#include <vector>

#include "tund/config/config.hpp"
#include "tund/crypto/primitives.hpp"

namespace tund::daemon {

struct KeyMaterial {
  crypto::Key private_key{};
  std::optional<crypto::Key> peer_public;  // client: the server's key (--peer-key)
  std::vector<crypto::Key> allowed;        // server: --allow and every --allow-file entry
  std::optional<crypto::Key> psk;          // --psk
};

// Reads and checks every key (crypto/keys.hpp: low-order, all-zero, malformed and
// unreadable keys are refused). Requires cfg.encrypted(). Throws crypto::KeyError with a
// one-line message naming the option or file.
KeyMaterial load_keys(const config::Config& cfg);

}  // namespace tund::daemon
