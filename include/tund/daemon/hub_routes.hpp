// `routes = auto` in hub mode: the kernel routes a hub needs so that packets for the
// networks behind its peers reach the device (wg-quick's behaviour for allowed-ips).
// Prefixes inside the device's own --address prefix are on-link already and get none; a
// /0 gets none either (it would take over this host's default route: route it yourself,
// with routes = off). Routes are made to match the peers at start and at every reload,
// and removed at shutdown.
#pragma once

#include <string>
#include <vector>

#include "tund/config/config.hpp"
#include "tund/tunnel/hub.hpp"
#include "tund/util/ip_prefix.hpp"
#include "tund/util/log.hpp"

namespace tund::daemon {

// The prefixes of `peers` that need a route through a device with addresses `own`
// (every --address, "10.8.0.1/24", "fd00:8::1/64"; none: empty): those inside none of
// them, sorted and without duplicates.
std::vector<util::IpPrefix> routed_prefixes(const std::vector<config::DeviceAddress>& own,
                                            const std::vector<tunnel::HubPeerSpec>& peers);

class HubRoutes {
 public:
  explicit HubRoutes(util::Logger& log) : log_(log) {}
  // Adds the routes `wanted` has and removes those it no longer has. A route the kernel
  // refuses (the device is still down: its address is set by hand after tund starts) is
  // logged once and tried again by retry(); tund goes on.
  void sync(const std::string& iface, std::vector<util::IpPrefix> wanted);
  void clear(const std::string& iface) { sync(iface, {}); }
  // Tries the refused routes again (the daemon calls it every second or so).
  void retry(const std::string& iface);

 private:
  bool add(const std::string& iface, const util::IpPrefix& prefix, bool log_failure);

  util::Logger& log_;
  std::vector<util::IpPrefix> installed_;
  std::vector<util::IpPrefix> refused_;  // wanted, but the kernel said no (yet)
};

}  // namespace tund::daemon
