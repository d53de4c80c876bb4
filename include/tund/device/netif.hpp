// Small queries and settings on network interfaces by name (sysfs and ioctl), kept apart
// from the TUN fd handling so each stays short.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tund/device/device.hpp"

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

// Adds an address (IPv4 "10.0.0.1/24" or IPv6 "fd00::1/64", no /PREFIX: a host) with an
// optional point-to-point peer of the same family ("10.0.0.2", "fd00::2"), through
// rtnetlink (RTM_NEWADDR, as `ip addr replace CIDR peer PEER`; no `ip` binary needed).
// Called once per address: the device keeps every one (any mix of families). Setting the
// same address again is harmless. The kernel's usual rules apply: IPv6 duplicate address
// detection on a TAP link, the prefix route (or PEER/PREFIX) to the device. Throws
// DeviceError.
void set_address(const std::string& name, const std::string& cidr, const std::string& peer);
void set_link_up(const std::string& name);

// The IPv4 addresses (with prefix lengths) on interface `name`, from getifaddrs(3); empty
// when it has none or does not exist.
std::vector<Ipv4Prefix> read_ipv4_addresses(const std::string& name);
// The current name of the interface with index `ifindex`, or nothing once it is gone
// (if_indextoname(3): follows renames).
std::optional<std::string> interface_name(int ifindex);
// False only when the kernel says no interface has that index (ENXIO); a failure to ask
// (no descriptors left, ...) is no evidence that it is gone.
bool interface_exists(int ifindex);

}  // namespace tund::device
