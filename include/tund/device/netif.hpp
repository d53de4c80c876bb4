// Small queries and settings on network interfaces by name (sysfs and ioctl), kept apart
// from the TUN fd handling so each stays short.
#pragma once

#include <optional>
#include <string>

namespace tund::device {

enum class TunKind { tun, tap };

// Whether an interface of that name exists, and if it is a TUN/TAP device, which kind.
struct InterfaceInfo {
  bool exists = false;
  std::optional<TunKind> tun_kind;  // empty: exists but is not a TUN/TAP device
};

InterfaceInfo probe_interface(const std::string& name);

// Reads / sets the MTU through an AF_INET control socket. Throw DeviceError on failure.
unsigned get_mtu(const std::string& name);
void set_mtu(const std::string& name, unsigned mtu);

// Assigns an address (IPv4 "10.0.0.1/24" or IPv6 "fd00::1/64") and, for IPv4, an optional
// point-to-point peer, through ioctl (no `ip` binary needed). Setting the same address
// again is harmless, like `ip addr replace`. Throws DeviceError.
void set_address(const std::string& name, const std::string& cidr, const std::string& peer);
void set_link_up(const std::string& name);

}  // namespace tund::device
