// Kernel routes through the tunnel device for hub mode's `routes = auto` (what wg-quick
// does for a peer's allowed-ips): the networks behind a peer are routed into the device so
// the kernel hands their packets to tund. Added and removed with the SIOCADDRT/SIOCDELRT
// ioctls (route(8)'s interface; IPv6 through in6_rtmsg), so no `ip` binary is needed.
#pragma once

#include <string>

#include "tund/util/ip_prefix.hpp"

namespace tund::device {

// Routes `prefix` through interface `name`. A route that exists already is not an error.
// Throws DeviceError naming the prefix and the kernel's reason.
void add_route(const std::string& name, const util::IpPrefix& prefix);
// Removes it; one that is not there (the device went, the admin removed it) is not an error.
void remove_route(const std::string& name, const util::IpPrefix& prefix);

}  // namespace tund::device
