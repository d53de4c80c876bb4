#include "tund/daemon/hooks.hpp"

namespace tund::daemon {

std::vector<std::string> hook_environment(const HookContext& c) {
  const config::Config& cfg = *c.config;
  std::string local = cfg.address.substr(0, cfg.address.find('/'));
  std::string prefix = cfg.address.find('/') == std::string::npos
                           ? ""
                           : cfg.address.substr(cfg.address.find('/') + 1);
  return {
      "TUND_IFACE=" + c.iface,
      std::string("TUND_MODE=") + (cfg.device == config::DeviceKind::tap ? "tap" : "tun"),
      std::string("TUND_ROLE=") + (cfg.role == config::Role::server ? "server" : "client"),
      "TUND_MTU=" + std::to_string(c.mtu),
      "TUND_LOCAL_ADDR=" + local,
      "TUND_PREFIX=" + prefix,
      "TUND_PEER_ADDR=" + cfg.peer,
      "TUND_REMOTE=" + cfg.remote_host,
      "TUND_PORT=" + std::to_string(cfg.port),
      std::string("TUND_TRANSPORT=") +
          (cfg.transport == config::TransportKind::udp ? "udp" : "tcp"),
      "TUND_LINK_IP=" + cfg.link_ip,
  };
}

}  // namespace tund::daemon
