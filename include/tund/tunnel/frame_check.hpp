// Cheap sanity checks and one-line descriptions of tunnel frames. The engine refuses to
// write something to the device that cannot be a packet of the link's kind (garbage from a
// desynchronised or hostile peer), and -d prints a description per frame.
#pragma once

#include <string>

#include "tund/device/device.hpp"
#include "tund/util/bytes.hpp"

namespace tund::tunnel {

// TUN: one IPv4 packet (version 4, header >= 20 bytes, total length == frame size) or
// IPv6 packet (40-byte header + payload length == frame size).
// TAP: at least an Ethernet header (14 bytes); an IPv4/IPv6 EtherType needs a valid IP
// header whose length fits in the frame (padding after it is fine, as on Ethernet).
// The size relative to our MTU does not matter: the device accepts larger packets.
bool plausible_frame(util::ConstByteSpan frame, device::LinkLayer link);

// The size of the network-layer packet in `frame` (TAP: without the Ethernet header and
// one 802.1Q tag), to compare with an MTU.
std::size_t network_packet_size(util::ConstByteSpan frame, device::LinkLayer link);

// e.g. "84 bytes IPv4 10.0.0.1 > 10.0.0.2 proto 1" or "98 bytes Ethernet type 0x0806".
std::string describe_frame(util::ConstByteSpan frame, device::LinkLayer link);

}  // namespace tund::tunnel
