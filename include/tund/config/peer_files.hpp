// Hub mode's peers directory (`peers-dir`, tund.conf(5) PEER FILES): one file per peer,
// the file name being the peer's name, each read with the config file's `name = value`
// syntax (config_file.hpp) and these keys:
//   public-key  = BASE64       required; base64 of 32 bytes
//   allowed-ips = PREFIX[,...] repeatable; IPv4/IPv6 CIDR (util/ip_prefix.hpp)
//   psk         = FILE         relative to the peers directory; a regular file
//   keepalive   = SECONDS      1-3600, as --keepalive
//   up, down    = CMD          per-peer hooks
//   disabled    = true|false
// Every error is a ConfigFileError of one line naming the file and line ("DIR/alice line
// 3: ..."); errors about the directory as a whole start with "--peers-dir: " so that the
// caller can put the config file line of `peers-dir` before them (Sources::locate).
#pragma once

#include <string>
#include <vector>

#include "tund/config/config.hpp"

namespace tund::config {

// Hub-mode limits, for the option ranges, the checks and the man page.
constexpr unsigned kDefaultMaxPeers = 1024;
constexpr unsigned kMaxMaxPeers = 65535;

struct PeersDir {
  std::vector<PeerSpec> peers;        // every peer file, disabled ones too, sorted by name
  std::vector<std::string> warnings;  // one line each, located (host bits that were set)
};

// Why `name` cannot be a peer's (file) name: empty, "." or "..", or a character outside
// [A-Za-z0-9_.-]. "" when it is fine.
std::string peer_name_error(const std::string& name);

// One peer file's text; `path` is named in errors, gives the peer's name (its last
// component) and the directory a relative psk is resolved against. Checks the file on
// its own (keys, values, a key set twice, no public-key); host-bits warnings are
// appended to `warnings` when given.
PeerSpec parse_peer_file(const std::string& text, const std::string& path,
                         std::vector<std::string>* warnings = nullptr);

// Reads every peer file of `dir` (hidden files, with a leading '.', are skipped) and checks
// them as a set: no two files with one public key, no two enabled peers whose allowed-ips
// overlap (equal, or one inside the other: a destination would have two owners), at most
// `max_peers` enabled peers. An empty directory is fine (a hub without peers yet). Errors:
// an unreadable directory or one that is not a directory, a file name outside
// [A-Za-z0-9_.-], a subdirectory or other non-file, any error of parse_peer_file.
PeersDir read_peers_dir(const std::string& dir, unsigned max_peers);

}  // namespace tund::config
