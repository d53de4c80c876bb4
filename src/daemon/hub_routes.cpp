#include "tund/daemon/hub_routes.hpp"

#include <algorithm>

#include "tund/device/routes.hpp"

namespace tund::daemon {
namespace {

bool before(const util::IpPrefix& a, const util::IpPrefix& b) {
  if (a.family != b.family) return a.family < b.family;
  if (a.address != b.address) return a.address < b.address;
  return a.length < b.length;
}

bool inside(const util::IpPrefix& inner, const std::optional<util::IpPrefix>& outer) {
  if (!outer || outer->family != inner.family || outer->length > inner.length) return false;
  return util::contains(*outer, inner.family,
                        {inner.address.data(), util::address_size(inner.family)});
}

bool has(const std::vector<util::IpPrefix>& list, const util::IpPrefix& p) {
  return std::find(list.begin(), list.end(), p) != list.end();
}

}  // namespace

std::vector<util::IpPrefix> routed_prefixes(const std::vector<config::DeviceAddress>& own,
                                            const std::vector<tunnel::HubPeerSpec>& peers) {
  std::vector<std::optional<util::IpPrefix>> on_link;
  for (const auto& address : own) on_link.push_back(util::parse_ip_prefix(address.cidr));
  auto routed = [&](const util::IpPrefix& prefix) {
    return prefix.length > 0 && std::none_of(on_link.begin(), on_link.end(),
                                             [&](const auto& o) { return inside(prefix, o); });
  };
  std::vector<util::IpPrefix> wanted;
  for (const auto& peer : peers)
    for (const auto& prefix : peer.allowed_ips)
      if (routed(prefix)) wanted.push_back(prefix);
  std::sort(wanted.begin(), wanted.end(), before);
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  return wanted;
}

void HubRoutes::sync(const std::string& iface, std::vector<util::IpPrefix> wanted) {
  for (const auto& prefix : installed_)
    if (!has(wanted, prefix)) {
      device::remove_route(iface, prefix);
      log_.info("routes: removed ", util::to_string(prefix), " dev ", iface);
    }
  std::vector<util::IpPrefix> now, refused;
  for (const auto& prefix : wanted) {
    if (has(installed_, prefix) || add(iface, prefix, !has(refused_, prefix)))
      now.push_back(prefix);
    else
      refused.push_back(prefix);
  }
  installed_ = std::move(now);
  refused_ = std::move(refused);
}

void HubRoutes::retry(const std::string& iface) {
  if (refused_.empty()) return;
  std::vector<util::IpPrefix> still;
  for (const auto& prefix : refused_) {
    if (add(iface, prefix, false))
      installed_.push_back(prefix);
    else
      still.push_back(prefix);
  }
  refused_ = std::move(still);
}

bool HubRoutes::add(const std::string& iface, const util::IpPrefix& prefix, bool log_failure) {
  try {
    device::add_route(iface, prefix);
    log_.info("routes: added ", util::to_string(prefix), " dev ", iface);
    return true;
  } catch (const std::exception& e) {
    if (log_failure) log_.warn("routes: ", e.what(), "; trying again while it is refused");
    return false;
  }
}

}  // namespace tund::daemon
