// --address, --peer and --link-ip: each value checked alone (as the kernel would take it),
// then against the others of its family.
#include "addresses.hpp"

#include <algorithm>

#include "tund/config/checks.hpp"

namespace tund::config {
namespace {

constexpr unsigned kMinIpv6Mtu = 1280;

bool is_v6(const std::string& address) {
  return address.find(':') != std::string::npos;  // after the checks: IPv4 has none
}

const char* family_of(const std::string& address) {
  return is_v6(address) ? "IPv6" : "IPv4";
}

// One address of the device or the link (--address, --peer, --link-ip) alone.
void check_address(const Sources& s, const char* option, const std::string& text,
                   std::size_t index) {
  check(s, option, std::string(option) == "address" ? cidr_error(text) : plain_ip_error(text),
        index);
  check(s, option, special_address_error(text, true), index);
  check(s, option, mapped_ipv4_error(text), index);
}

// Every --address in order; the same address twice is a mistake (which prefix was meant?).
void take_address_list(Config& cfg, const AddressOptions& raw) {
  const Sources& s = cfg.sources;
  for (std::size_t i = 0; i < raw.addresses.size(); ++i) {
    const std::string& address = raw.addresses[i];
    check_address(s, "address", address, i);
    check(s, "address", subnet_edge_error(address), i);
    for (const DeviceAddress& before : cfg.addresses)
      if (same_address(address, before.cidr))
        fail(s, "address",
             "--address: '" + address + "' is given twice (as '" + before.cidr + "' too)", i);
    cfg.addresses.push_back({address, ""});
  }
}

// Each --peer pairs with the first --address of its family: one per family.
void take_address_peers(Config& cfg, const AddressOptions& raw) {
  const Sources& s = cfg.sources;
  for (std::size_t i = 0; i < raw.peers.size(); ++i) {
    const std::string& peer = raw.peers[i];
    if (cfg.addresses.empty()) fail(s, "peer", "--peer goes with --address", i);
    check_address(s, "peer", peer, i);
    std::string family = family_of(peer);
    auto own = std::find_if(cfg.addresses.begin(), cfg.addresses.end(),
                            [&](const DeviceAddress& a) { return is_v6(a.cidr) == is_v6(peer); });
    if (own == cfg.addresses.end())
      fail(s, "peer",
           "--peer " + peer + " is " + family + " but no --address is (a --peer pairs with " +
               "the first --address of its family)",
           i);
    if (!own->peer.empty())
      fail(s, "peer",
           "--peer: '" + own->peer + "' and '" + peer + "' are both " + family +
               " (at most one --peer per family)",
           i);
    for (const DeviceAddress& a : cfg.addresses)
      if (same_address(peer, a.cidr))
        fail(s, "peer",
             "--peer: '" + peer + "' is this side's own --address (give the other end's)", i);
    own->peer = peer;
  }
}

// --link-ip, at most one per family, into link_ip (IPv4) and link_ip6.
void take_link_ips(Config& cfg, const AddressOptions& raw) {
  const Sources& s = cfg.sources;
  for (std::size_t i = 0; i < raw.link_ips.size(); ++i) {
    const std::string& ip = raw.link_ips[i];
    check_address(s, "link-ip", ip, i);
    for (const DeviceAddress& a : cfg.addresses) {
      check(s, "link-ip", subnet_broadcast_error(ip, a.cidr), i);
      check(s, "link-ip", subnet_anycast_error(ip, a.cidr), i);
    }
    std::string& slot = is_v6(ip) ? cfg.link_ip6 : cfg.link_ip;
    if (!slot.empty())
      fail(s, "link-ip",
           "--link-ip: '" + slot + "' and '" + ip + "' are both " + family_of(ip) +
               " (at most one --link-ip per family)",
           i);
    slot = ip;
  }
}

// Why one --link-ip does nothing with this addressing, or "": the kernel answers for it
// itself, it is the peer, or no --address routes it to the device (the reason given by an
// address of its own family, if there is one).
std::string link_ip_warning(const Config& cfg, const std::string& ip) {
  for (const DeviceAddress& a : cfg.addresses) {
    if (same_address(ip, a.cidr))
      return "--link-ip does nothing: it is the --address the kernel itself answers for "
             "(give tund an unused address on the link)";
    if (same_address(ip, a.peer))
      return "--link-ip is the --peer address: tund answers pings to it itself, so they never "
             "reach the peer";
  }
  std::string why;
  for (const DeviceAddress& a : cfg.addresses) {
    std::string route = link_ip_route_warning(ip, a.cidr, a.peer);
    if (route.empty()) return "";
    if (why.empty() || is_v6(a.cidr) == is_v6(ip)) why = route;
  }
  return why;
}

}  // namespace

namespace {

// IPv6 needs a link MTU of at least 1280 (RFC 8200 section 5): the kernel refuses an IPv6
// address on a smaller one, so say so now rather than after the device exists.
void check_ipv6_mtu(const Config& cfg) {
  if (!cfg.mtu || *cfg.mtu >= kMinIpv6Mtu) return;
  std::string v6 = cfg.link_ip6;
  for (const DeviceAddress& a : cfg.addresses)
    if (v6.empty() && is_v6(a.cidr)) v6 = a.cidr;
  if (v6.empty()) return;
  fail(cfg.sources, "mtu",
       "--mtu " + std::to_string(*cfg.mtu) +
           " is below 1280, the least IPv6 allows (RFC 8200), "
           "and " +
           v6 + " is an IPv6 address (raise --mtu or give only IPv4 addresses)");
}

}  // namespace

void take_addresses(Config& cfg, const AddressOptions& raw) {
  take_address_list(cfg, raw);
  take_address_peers(cfg, raw);
  take_link_ips(cfg, raw);
  check_ipv6_mtu(cfg);
}

std::vector<std::string> address_warnings(const Config& cfg, const AddressOptions& raw) {
  const Sources& s = cfg.sources;
  std::vector<std::string> warnings;
  if (!raw.peers.empty() && cfg.device == DeviceKind::tap)
    warnings.push_back(s.prefix("peer", 0) +
                       "--peer on a TAP (Ethernet) link only adds a route to that address; for "
                       "a shared subnet give --address a prefix (10.0.0.1/24) instead");
  if (!cfg.link_mac.empty() && raw.link_ips.empty())
    warnings.push_back(s.prefix("link-mac") +
                       "--link-mac does nothing without --link-ip (it is the MAC tund answers "
                       "ARP and Neighbor Discovery with for that address)");
  for (std::size_t i = 0; i < raw.link_ips.size(); ++i) {
    std::string why = link_ip_warning(cfg, raw.link_ips[i]);
    if (!why.empty()) warnings.push_back(s.prefix("link-ip", i) + why);
  }
  return warnings;
}

}  // namespace tund::config
