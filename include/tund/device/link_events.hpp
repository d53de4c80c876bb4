// Pure decoding of rtnetlink notifications (RTM_NEWLINK / RTM_DELLINK / RTM_NEWADDR /
// RTM_DELADDR, see rtnetlink(7)) into the few facts tund follows about its own device:
// its name, its MTU, whether it still exists, and its IPv4 addresses. No I/O, so the
// parser is unit-tested with hand-built messages; link_watcher.hpp does the socket part.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tund/device/device.hpp"
#include "tund/util/bytes.hpp"

namespace tund::device {

struct LinkEvent {
  enum class Kind {
    link_changed,     // RTM_NEWLINK: name and/or mtu carry the current values
    link_deleted,     // RTM_DELLINK
    address_added,    // RTM_NEWADDR, AF_INET
    address_removed,  // RTM_DELADDR, AF_INET
    overrun,          // NLMSG_ERROR with ENOBUFS, or a message cut short: resynchronise
  };
  Kind kind = Kind::link_changed;
  int ifindex = 0;
  std::optional<std::string> name;  // IFLA_IFNAME
  std::optional<unsigned> mtu;      // IFLA_MTU
  Ipv4Prefix address;               // IFA_LOCAL (else IFA_ADDRESS) / ifa_prefixlen

  static LinkEvent overrun_event() {
    LinkEvent event;
    event.kind = Kind::overrun;
    return event;
  }
};

// Decodes every message in one datagram read from a NETLINK_ROUTE socket, keeping only
// those about interface `ifindex` (overrun is always kept). Malformed trailing bytes end
// the walk; they never cause an out-of-bounds read.
std::vector<LinkEvent> parse_link_events(util::ConstByteSpan datagram, int ifindex);

}  // namespace tund::device
