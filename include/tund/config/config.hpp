// The validated settings tund runs with. Plain data: built by the CLI parser (cli.hpp),
// consumed by the daemon; no other module reads the command line.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "tund/proto/wire.hpp"

namespace tund::config {

enum class Role { server, client };
enum class TransportKind { tcp, udp };
enum class DeviceKind { tun, tap };

struct Config {
  Role role = Role::server;
  std::string remote_host;  // client: the server to connect to
  std::uint16_t port = proto::kDefaultPort;
  std::string listen;  // server: local address; empty = all (dual-stack)
  std::string iface;
  DeviceKind device = DeviceKind::tun;
  TransportKind transport = TransportKind::tcp;
  std::optional<unsigned> mtu;  // unset: kDefaultMtu on a device tund creates
  std::chrono::seconds keepalive = proto::kDefaultKeepalive;
  bool debug = false;
};

}  // namespace tund::config
