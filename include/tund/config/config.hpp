// The validated settings tund runs with. Plain data: built by the CLI parser (cli.hpp),
// consumed by the daemon; no other module reads the command line.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tund/proto/timers.hpp"
#include "tund/proto/wire.hpp"
#include "tund/util/ip_prefix.hpp"

namespace tund::config {

enum class Role { server, client };
enum class TransportKind { tcp, udp };
enum class DeviceKind { tun, tap };

// Where a value came from: a config file line, or the command line (file empty).
struct Origin {
  std::string file;
  int line = 0;
};

// The origin of every value, so that an error found after parsing (a key file that is not
// a key, an account that does not exist) names the config file line as parse errors do.
struct Sources {
  // Long option name (no dashes) -> one origin per value, in the order of the values
  // (`allow` may have several: the config file's first, then the command line's).
  std::map<std::string, std::vector<Origin>> by_option;

  static constexpr std::size_t kLast = static_cast<std::size_t>(-1);

  // "FILE line N: " when value `index` of `option` (by default the last one, the one a
  // single-valued option keeps) came from a config file, else "".
  std::string prefix(const std::string& option, std::size_t index = kLast) const;
  // `message` with the prefix of the option it starts with ("--user: no such user 'x'"
  // -> "/etc/tund/x.conf line 4: --user: no such user 'x'"); unchanged otherwise.
  std::string locate(const std::string& message) const;
  bool given(const std::string& option) const { return by_option.count(option) != 0; }
  // The option's (last) value came from the command line.
  bool from_command_line(const std::string& option) const {
    return given(option) && prefix(option).empty();
  }
};

// Hub mode: one peer file of the peers directory (`peers-dir`), read with the config
// file's `name = value` syntax. The file name is the peer's name.
struct PeerSpec {
  std::string name;        // the file name: [A-Za-z0-9_.-]+, not "." or ".."
  std::string public_key;  // base64 of 32 bytes, checked as base64 here (curve: daemon)
  std::vector<util::IpPrefix> allowed_ips;        // repeatable `allowed-ips`; may be empty
  std::string psk_file;                           // empty: none (regular file checked here)
  std::optional<std::chrono::seconds> keepalive;  // unset: the server's --keepalive
  std::string up_command, down_command;           // per-peer hooks; empty: none
  bool disabled = false;                          // listed but not allowed in
  std::string file;                               // the peer file's path, for errors
  // The line of each key in the file ("public-key" -> 3), so later errors (a key that is
  // not a curve point, a psk file that cannot be read) name file:line. "allowed-ips" is
  // its first line; each prefix has its own entry too, "allowed-ips 10.9.0.0/24" -> 5
  // (util::to_string's text), for a route that cannot be added.
  std::map<std::string, int> lines;
};

enum class Routes { automatic, off };

// --threads takes at most this many (more threads than this sealing one batch of frames
// would each get a few frames only; threads.hpp caps the CPU count at it too).
inline constexpr unsigned kMaxThreads = 64;

// --cipher: the data cipher this side asks for (docs/PROTOCOL.md §1): auto, the faster of
// AES-256-GCM and ChaCha20-Poly1305 as both ends measured them at start-up; or one forced.
enum class Cipher { automatic, aes256gcm, chacha20poly1305 };

// One address tund assigns to the device (`--address`, repeatable), with the point-to-point
// peer paired with it (`--peer`: at most one per family, paired with the first --address of
// its family), as `ip addr add CIDR peer PEER` does for either family.
struct DeviceAddress {
  std::string cidr;  // "10.0.0.1/24", "fd00::1/64"; no /PREFIX: a host (/32, /128)
  std::string peer;  // "10.0.0.2", "fd00::2"; empty: none
  friend bool operator==(const DeviceAddress&, const DeviceAddress&) = default;
};

struct Config {
  Role role = Role::server;
  std::string remote_host;  // client: the server to connect to (a name or an IP, no port)
  std::uint16_t port = proto::kDefaultPort;  // also from -c HOST:PORT or --listen ADDR:PORT
  std::string listen;  // server: local IP address (no port); empty = all (dual-stack)
  std::string iface;
  DeviceKind device = DeviceKind::tun;
  TransportKind transport = TransportKind::tcp;
  std::optional<unsigned> mtu;  // unset: kDefaultMtu on a device tund creates
  std::chrono::seconds keepalive = proto::kDefaultKeepalive;
  bool debug = false;
  // TUN offloads (IFF_VNET_HDR: 64 KB reads and writes, segmented/merged by tund).
  bool offload = true;
  // --threads: threads sealing and opening frames (the event loop's own + helpers); 0 = the
  // number of CPUs this process may use (sched_getaffinity), capped at kMaxThreads
  // (effective_threads() in threads.hpp resolves it). 1-kMaxThreads otherwise.
  unsigned threads = 0;

  // Encryption: on when private_key_file is set (validated as a set by the CLI parser;
  // the files themselves are read and checked at start-up by the daemon).
  std::string private_key_file;
  std::string peer_key;                  // client: the server's public key, KEY or FILE
  std::vector<std::string> allow;        // server: allowed client keys, KEY or FILE each
  std::vector<std::string> allow_files;  // server: files of allowed keys
  std::string psk_file;
  Cipher cipher = Cipher::automatic;
  // Encrypted TCP server: connections held while they have not authenticated yet.
  unsigned max_pending = 16;

  // Hub mode (server, encrypted): the peers directory and what was read from it (every
  // file, disabled ones included, sorted by name; two files with one key are an error).
  std::string peers_dir;
  std::vector<PeerSpec> peers;
  unsigned max_peers = 1024;  // more enabled peer files than this: an error
  Routes routes = Routes::automatic;
  bool hub() const { return !peers_dir.empty(); }
  bool encrypted() const { return !private_key_file.empty(); }

  // The link: the addresses tund answers on the tunnel link itself (`--link-ip`, given at
  // most once per family): ARP + ICMP echo for IPv4; Neighbor Discovery (TAP) + ICMPv6
  // echo for IPv6. And the MAC it answers from in TAP mode.
  std::string link_ip;   // IPv4; empty = none
  std::string link_ip6;  // IPv6; empty = none
  std::string link_mac;  // empty = derived from the interface name
  // Device configuration done by tund itself (no scripts needed): every --address in the
  // order given, any mix of IPv4 and IPv6 (no two the same address), each applied in turn.
  std::vector<DeviceAddress> addresses;
  // Hooks run with /bin/sh -c, with TUND_* variables in the environment.
  std::string up_command, down_command;
  // Privileges: switch to this user/group once the device and socket are open.
  std::string user, group;
  // Status (docs/CONTROL.md): the control socket's path (empty: /run/tund/IFACE.sock) and
  // the group that may use it (empty: root only); the Prometheus endpoint
  // (--metrics-listen ADDR:PORT; empty host: off).
  std::string control_socket;
  std::string control_group;
  std::string metrics_host;  // an IP address literal, no brackets
  std::uint16_t metrics_port = 0;

  // Where each value came from, and the options that do nothing in this combination (one
  // line each, already located; the daemon logs them as warnings at start).
  Sources sources;
  std::vector<std::string> warnings;
};

}  // namespace tund::config
