#include "tund/daemon/hooks.hpp"

#include <algorithm>

namespace tund::daemon {

namespace {

// NAME=local, NAME's prefix and peer variables for `address` (all empty when it is null):
// TUND_LOCAL_ADDR<suffix>, TUND_PREFIX<suffix>, TUND_PEER_ADDR<suffix>.
void add_address(std::vector<std::string>& env, const std::string& suffix,
                 const config::DeviceAddress* address) {
  std::string cidr = address ? address->cidr : "";
  auto slash = cidr.find('/');
  env.push_back("TUND_LOCAL_ADDR" + suffix + "=" + cidr.substr(0, slash));
  env.push_back("TUND_PREFIX" + suffix + "=" +
                (slash == std::string::npos ? "" : cidr.substr(slash + 1)));
  env.push_back("TUND_PEER_ADDR" + suffix + "=" + (address ? address->peer : ""));
}

// The first --address of a family (IPv6: it has a ':'), or null.
const config::DeviceAddress* first_of(const config::Config& cfg, bool v6) {
  for (const auto& address : cfg.addresses)
    if ((address.cidr.find(':') != std::string::npos) == v6) return &address;
  return nullptr;
}

}  // namespace

std::vector<std::string> hook_environment(const HookContext& c) {
  const config::Config& cfg = *c.config;
  std::vector<std::string> env = {
      "TUND_IFACE=" + c.iface,
      std::string("TUND_MODE=") + (cfg.device == config::DeviceKind::tap ? "tap" : "tun"),
      std::string("TUND_ROLE=") + (cfg.role == config::Role::server ? "server" : "client"),
      "TUND_MTU=" + std::to_string(c.mtu),
      "TUND_REMOTE=" + cfg.remote_host,
      "TUND_PORT=" + std::to_string(cfg.port),
      std::string("TUND_TRANSPORT=") +
          (cfg.transport == config::TransportKind::udp ? "udp" : "tcp"),
      "TUND_LINK_IP=" + cfg.link_ip,
      "TUND_LINK_IP6=" + cfg.link_ip6,
  };
  std::string all;
  for (const auto& address : cfg.addresses) {
    if (!all.empty()) all += ' ';
    all += address.cidr;
  }
  env.push_back("TUND_ADDRESSES=" + all);
  add_address(env, "", cfg.addresses.empty() ? nullptr : &cfg.addresses.front());
  add_address(env, "4", first_of(cfg, false));
  add_address(env, "6", first_of(cfg, true));
  return env;
}

}  // namespace tund::daemon

namespace tund::daemon {

void HookOutput::feed(std::string_view bytes, Clock::time_point now) {
  while (!bytes.empty()) {
    std::size_t newline = bytes.find('\n');
    std::string_view piece = bytes.substr(0, newline);
    if (!cutting_) {
      std::size_t room = bounds_.max_line - std::min(bounds_.max_line, partial_.size());
      partial_.append(piece.substr(0, room));
      if (piece.size() > room) {  // too long: what fits, marked, and the rest skipped
        partial_ += " [cut: line longer than " + std::to_string(bounds_.max_line) + " bytes]";
        deliver(partial_, now);
        partial_.clear();
        cutting_ = true;
      }
    }
    if (newline == std::string_view::npos) return;
    if (!cutting_) deliver(partial_, now);
    partial_.clear();
    cutting_ = false;
    bytes.remove_prefix(newline + 1);
  }
}

void HookOutput::finish(Clock::time_point now) {
  if (!partial_.empty()) deliver(partial_, now);
  partial_.clear();
  cutting_ = false;
  report_dropped();
}

void HookOutput::deliver(std::string_view line, Clock::time_point now) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (now - window_start_ >= bounds_.window) {
    report_dropped();
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ >= bounds_.lines_per_window) {
    ++dropped_;
    return;
  }
  ++in_window_;
  sink_.line(line);
}

void HookOutput::report_dropped() {
  if (dropped_ == 0) return;
  sink_.dropped(dropped_);
  dropped_ = 0;
}

}  // namespace tund::daemon
