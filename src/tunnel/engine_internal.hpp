// Helpers shared by the engine's source files; private to the tunnel module.
#pragma once

#include <cstddef>
#include <vector>

#include "tund/device/device.hpp"
#include "tund/link/responder.hpp"

namespace tund::tunnel {

// The largest frame the tunnel carries at `mtu` (an Ethernet header on top for TAP).
std::size_t max_frame_for(unsigned mtu, device::LinkLayer link);
std::vector<link::Ipv4Subnet> subnets_of(const std::vector<device::Ipv4Prefix>& prefixes);

}  // namespace tund::tunnel
