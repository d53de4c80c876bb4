// Checks of single option values that the kernel or libc would otherwise refuse only after
// tund has started changing the system (a device created, a hook run). Each returns an
// empty string when the value is fine, else the one-line reason (without the option name).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tund::config {

// The kernel's dev_valid_name() and dev_alloc_name() rules: 1..15 bytes (IFNAMSIZ - 1),
// not "." or "..", "all" or "default", no '/', ':' or whitespace; a template holds at most
// one '%', as "%d" (the kernel then picks the number: tun%d -> tun0). Also refused, though
// the kernel takes them: a control character, and a leading '-' (an option taken for the
// name).
std::string interface_name_error(const std::string& name);

// ADDR or ADDR/PREFIX, IPv4 (prefix 0..32) or IPv6 (0..128).
std::string cidr_error(const std::string& cidr);
// A dotted-quad IPv4 address.
std::string ipv4_error(const std::string& address);
// An IPv4 or IPv6 address; an IPv6 one may name its scope (fe80::1%eth0), as asio's
// make_address() accepts.
std::string ip_error(const std::string& address);

// HOST, HOST:PORT, [IPv6] or [IPv6]:PORT: the bracket form of RFC 3986 section 3.2.2,
// which tund's own logs print. Two or more colons without brackets are a bare IPv6
// address (no port). `port` is set only when the text names one.
struct HostPort {
  std::string host;
  std::optional<std::uint16_t> port;
};
// Splits `text` into `out`; the reason when it cannot: an empty host, a port that is not
// 1..65535, brackets around something that is not an IPv6 address.
std::string host_port_error(const std::string& text, HostPort& out);
// A host to connect to (after the split): a name or an IP literal, not a URL, no
// whitespace or control characters, and with colons only as an IPv6 address. A name has
// at most 253 characters and labels of 1-63 not starting or ending with '-' ("malformed
// host name", RFC 1035); a literal is not unspecified, multicast or broadcast (loopback is
// fine).
std::string host_error(const std::string& host);

// Two addresses (each ADDR or ADDR/PREFIX, IPv4 or IPv6) are the same address; false when
// either does not parse.
bool same_address(const std::string& a, const std::string& b);

// Why `address` (IPv4 or IPv6, with or without /PREFIX) cannot be an address of the
// tunnel link: the unspecified (0.0.0.0, ::), a multicast, the limited broadcast
// (255.255.255.255) and, when `loopback_too`, a loopback address (127/8, ::1), which the
// kernel refuses (EINVAL) or treats as martian. "" when it is none of them or no address.
std::string special_address_error(const std::string& address, bool loopback_too);
// `ip` (IPv4) is the broadcast address of the IPv4 subnet `cidr` (prefix up to /30): ""
// otherwise, and for anything that does not parse.
std::string subnet_broadcast_error(const std::string& ip, const std::string& cidr);
// Why `link_ip` (IPv4 or IPv6) would never answer with this addressing: the kernel routes
// to the device only the --address subnet (`cidr`, ADDR/N) or, with a `peer`, PEER/N
// (ip-address(8)); an --address of the other family routes none of it. "" when it is
// reachable, when `cidr` has no /PREFIX, or anything does not parse.
std::string link_ip_route_warning(const std::string& link_ip, const std::string& cidr,
                                  const std::string& peer);
// An IPv4 or IPv6 address alone: no /PREFIX, no %scope (what the device and the link
// responder take).
std::string plain_ip_error(const std::string& address);
// ::ffff:a.b.c.d (RFC 4291 section 2.5.5.2), with or without /PREFIX: an IPv4 address in
// IPv6 clothing, which belongs to neither family on a link.
std::string mapped_ipv4_error(const std::string& address);
// An IPv4 --address `cidr` (prefix up to /30) whose host part is all ones (the subnet's
// broadcast) or all zeros (its network address, the old BSD broadcast, RFC 1122 3.3.6), or
// an IPv6 one (prefix up to /126) whose host part is all zeros (the Subnet-Router anycast
// address, RFC 4291 2.6.1): "" otherwise, and for anything that does not parse.
std::string subnet_edge_error(const std::string& cidr);
// `ip` (IPv6) is the Subnet-Router anycast address of the IPv6 subnet `cidr` (prefix up to
// /126; RFC 4291 2.6.1): "" otherwise, and for anything that does not parse.
std::string subnet_anycast_error(const std::string& ip, const std::string& cidr);
// 00:00:00:00:00:00, which no interface may use.
std::string mac_zero_error(const std::string& mac);

// A unicast MAC, six hex bytes separated by ':' (02:00:5e:10:00:01), as link::parse_mac
// reads it.
std::string mac_error(const std::string& mac);

// A file an option names must be a regular file tund can open: the reason it is not
// ("cannot read WHAT PATH: No such file or directory", "WHAT PATH is a directory, not a
// file", "... is not a regular file"). Opening does not read; a FIFO is not opened.
std::string file_error(const std::string& path, const std::string& what);
// A --peer-key/--allow value is a key when it has the length and padding of a base64
// 32-byte key (44 characters ending in '='), else a file name: the rule of
// crypto::read_public_key, which config cannot include.
bool looks_like_key(const std::string& value);

}  // namespace tund::config
