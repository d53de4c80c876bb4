// Cheap sanity checks and one-line descriptions of tunnel frames. The engine refuses to
// write something to the device that cannot be a packet of the link's kind (garbage from a
// desynchronised or hostile peer), and -d prints a description per frame.
#pragma once

#include <string>

#include "tund/device/device.hpp"
#include "tund/util/bytes.hpp"

namespace tund::tunnel {

// TUN: an IPv4 header (version 4, >= 20 bytes) or IPv6 header (version 6, >= 40 bytes).
// TAP: at least an Ethernet header (14 bytes).
bool plausible_frame(util::ConstByteSpan frame, device::LinkLayer link);

// e.g. "84 bytes IPv4 10.0.0.1 > 10.0.0.2 proto 1" or "98 bytes Ethernet type 0x0806".
std::string describe_frame(util::ConstByteSpan frame, device::LinkLayer link);

}  // namespace tund::tunnel
