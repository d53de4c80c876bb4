// Sticky source addresses for a UDP server bound to a wildcard address on a multihomed
// host (the idea of wireguard-go's conn/sticky_linux.go): the local address each datagram
// was sent to is read from IP_PKTINFO (ip(7)) or IPV6_PKTINFO (ipv6(7), RFC 3542 section
// 6), remembered with the sender's Endpoint (Endpoint::local), and given back as the
// source of what is sent to that endpoint. Without it the kernel picks the source by
// route, which may be another address of the host than the one the client sent to; a
// client whose socket is connect()ed to the server's address drops such replies.
//
// Shapes: a local address is an asio::ip::address, unspecified for "none" (the kernel
// chooses). IPv4 senders on a dual-stack socket arrive v4-mapped and carry both control
// messages; their local address is kept as plain IPv4, and sent as IP_PKTINFO, which a
// dual-stack socket takes for a v4-mapped destination. An IPv6 link-local address carries
// the interface index as its scope id (it names the link); other addresses carry none, so
// the route still picks the interface.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <asio/ip/address.hpp>
#include <cstddef>

namespace tund::transport {

// The control space one source address takes in a message (the larger of the two forms).
inline constexpr std::size_t kPktinfoSpace = CMSG_SPACE(sizeof(in6_pktinfo));
static_assert(sizeof(in6_pktinfo) >= sizeof(in_pktinfo));

// Asks the kernel to report each datagram's local address on `fd` (IP_PKTINFO, and
// IPV6_RECVPKTINFO when `ipv6`: a dual-stack socket reports its IPv4 datagrams through
// the former). Returns false when the kernel refused both (nothing is reported then).
bool enable_pktinfo(int fd, bool ipv6);

// Reads the local address out of one received control message: IP_PKTINFO's ipi_spec_dst
// (the local address the datagram was accepted for), IPV6_PKTINFO's ipi6_addr (with
// ipi6_ifindex as the scope id of a link-local one; a v4-mapped one as IPv4). Returns
// false, leaving `local` alone, for any other control message or a short one.
bool read_pktinfo(const cmsghdr& c, asio::ip::address& local);

// Writes at `c` (kPktinfoSpace bytes of control space, zeroed by the caller or not) the
// control message that makes a datagram leave from `source`: IP_PKTINFO with
// ipi_spec_dst for IPv4, IPV6_PKTINFO with ipi6_addr (and a link-local one's scope id as
// ipi6_ifindex) for IPv6. Returns the CMSG_SPACE used, 0 for an unspecified `source`
// (nothing written). A source no longer on the host fails the send: IPv4 with ENETUNREACH
// (the route lookup refuses a source that is not local), IPv6 with EINVAL (the
// IPV6_PKTINFO address check).
std::size_t write_pktinfo(cmsghdr* c, const asio::ip::address& source);

// Whether an address is a wildcard (0.0.0.0, ::): only a socket bound to one needs this.
inline bool is_wildcard(const asio::ip::address& address) {
  return address.is_unspecified();
}

}  // namespace tund::transport
