// The swarm's key material on disk, written by `tund_swarm keys` and read by
// `tund_swarm run`:
//   DIR/peers/NAME       the hub's peer files (--peers-dir DIR/peers): public-key,
//                        allowed-ips = the client's /32, psk = FILE when given
//   DIR/keys/NAME.key    each client's private key, as `tund genkey` writes it (mode 0600)
//   DIR/clients.list     one line per client: NAME ADDRESS/PREFIX KEYFILE
// Client i (from 0) of NET gets host number i + 2 (host 1 is the hub's own address).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tund/link/responder.hpp"

namespace tund::swarm {

struct ClientEntry {
  std::string name;
  link::Ipv4 address{};
  unsigned prefix_len = 32;
  std::string key_file;
};

// "10.77.0.0/16": the network (host bits cleared) and its length. Throws
// std::runtime_error naming `what` for anything else.
struct Ipv4Net {
  std::uint32_t network = 0;  // host order
  unsigned prefix_len = 0;
};
Ipv4Net parse_ipv4_net(const std::string& text, const std::string& what);
// Host number `host` of `net`; throws std::runtime_error when `net` has no such host
// (the broadcast address and beyond).
link::Ipv4 host_address(const Ipv4Net& net, std::uint64_t host);
std::string to_string(const link::Ipv4& address);

// Writes everything for `count` clients under `dir` (created if missing); files already
// there are replaced. Throws std::runtime_error with one line.
void write_swarm_keys(const std::string& dir, std::size_t count, const Ipv4Net& net,
                      const std::optional<std::string>& psk_file);
// Reads DIR/clients.list; throws std::runtime_error naming the file and line.
std::vector<ClientEntry> read_client_list(const std::string& dir);

}  // namespace tund::swarm
