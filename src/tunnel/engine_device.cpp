// The device changed under the engine: MTU, name, addresses, or it is gone.
#include <algorithm>

#include "engine_internal.hpp"
#include "tund/proto/wire.hpp"
#include "tund/tunnel/engine.hpp"

namespace tund::tunnel {

void Engine::on_mtu_changed(unsigned old_mtu, unsigned new_mtu) {
  mtu_ = std::min(new_mtu, proto::kMaxTunnelMtu);
  max_frame_ = max_frame_for(mtu_, device_.link_layer());
  if (responder_) responder_->set_tunnel_mtu(mtu_);
  log_.info("device ", device_.name(), " MTU changed from ", old_mtu, " to ", new_mtu,
            "; the tunnel now carries up to ", mtu_);
  if (mtu_ < new_mtu) log_capped_mtu(new_mtu);
}

void Engine::log_capped_mtu(unsigned device_mtu) {
  log_.warn("device ", device_.name(), " MTU ", device_mtu,
            " is above the largest packet the tunnel can carry (", mtu_,
            "); larger packets get 'fragmentation needed' / 'packet too big'");
}

void Engine::on_renamed(const std::string& old_name, const std::string& new_name) {
  log_.info("device ", old_name, " renamed to ", new_name);
}

void Engine::on_addresses_changed(const std::vector<device::Ipv4Prefix>& now) {
  if (responder_) responder_->set_local_subnets(subnets_of(now));
}

void Engine::on_gone(const std::string& why) {
  fail(why);
}

void Engine::on_notice(const std::string& line) {
  log_.warn(line);
}

}  // namespace tund::tunnel
