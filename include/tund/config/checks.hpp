// Checks of single option values that the kernel or libc would otherwise refuse only after
// tund has started changing the system (a device created, a hook run). Each returns an
// empty string when the value is fine, else the one-line reason (without the option name).
#pragma once

#include <string>

namespace tund::config {

// The kernel's dev_valid_name() and dev_alloc_name() rules: 1..15 bytes (IFNAMSIZ - 1),
// not "." or "..", no '/', ':' or whitespace; a template holds at most one '%', as "%d"
// (the kernel then picks the number: tun%d -> tun0).
std::string interface_name_error(const std::string& name);

// ADDR or ADDR/PREFIX, IPv4 (prefix 0..32) or IPv6 (0..128).
std::string cidr_error(const std::string& cidr);
// A dotted-quad IPv4 address.
std::string ipv4_error(const std::string& address);

}  // namespace tund::config
