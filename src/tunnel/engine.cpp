// The engine's life: building the peers, start, stop, failure, the timer tick. The data
// path is in engine_outbound.cpp and engine_inbound.cpp, the device's events in
// engine_device.cpp; engine.hpp has the overview.
#include "tund/tunnel/engine.hpp"

#include <algorithm>

#include "engine_internal.hpp"
#include "tund/proto/timers.hpp"
#include "tund/proto/wire.hpp"

namespace tund::tunnel {
namespace {

// What the tunnel carries: the device's MTU, up to what the wire format can hold.
unsigned tunnel_mtu_for(unsigned device_mtu) {
  return std::min(device_mtu, proto::kMaxTunnelMtu);
}

}  // namespace

std::size_t max_frame_for(unsigned mtu, device::LinkLayer link) {
  return std::min(proto::max_frame_size(mtu, link == device::LinkLayer::ethernet),
                  proto::kMaxFrameAbsolute);
}

std::vector<link::Ipv4Subnet> subnets_of(const std::vector<device::Ipv4Prefix>& prefixes) {
  std::vector<link::Ipv4Subnet> subnets;
  for (const auto& p : prefixes) subnets.push_back({p.address, p.prefix_len, p.broadcast});
  return subnets;
}

Engine::Engine(EngineParts parts)
    : device_(parts.device),
      transport_(parts.transport),
      log_(parts.log),
      responder_(parts.responder),
      identity_(parts.identity),
      initiator_(parts.peer.initiator),
      clock_(parts.clock),
      hub_(parts.hub.has_value()),
      ethernet_(parts.device.link_layer() == device::LinkLayer::ethernet),
      hub_template_(parts.peer),
      hub_backoff_(parts.probe_backoff),
      workers_(parts.workers),
      mtu_(tunnel_mtu_for(parts.device.mtu())),
      max_frame_(max_frame_for(mtu_, parts.device.link_layer())),
      scratch_(proto::kMaxFrameAbsolute),
      wire_complaints_(parts.wire_complaints ? *parts.wire_complaints : own_wire_complaints_) {
  if (hub_) {
    for (const auto& spec : *parts.hub) add_hub_peer(spec);
    hub_specs_ = std::move(*parts.hub);
    return;
  }
  peers_.push_back(std::make_unique<Peer>(std::move(parts.peer), transport_, identity_, log_,
                                          clock_, std::move(parts.probe_backoff)));
  Peer* peer = peers_.front().get();
  peer->set_state_handler([this, peer](bool up) { on_peer_state(*peer, up); });
}

Engine::~Engine() {
  device_.set_observer(nullptr);  // the device and transport may outlive us
  transport_.set_before_send(nullptr);
}

void Engine::start() {
  device_.set_observer(this);
  // Encrypted: every frame this engine writes to the device passed an AEAD check (or is a
  // reply it built itself), so inner checksums need no second look before merging.
  device_.set_checksums_trusted(identity_ != nullptr);
  if (mtu_ < device_.mtu()) log_capped_mtu(device_.mtu());
  if (responder_) {
    responder_->set_tunnel_mtu(mtu_);
    responder_->set_local_subnets(subnets_of(device_.ipv4_addresses()));
  }
  transport_.set_before_send([this] { run_seals(); });
  transport_.start(*this);
  wait_for_device();
  on_timer();
}

void Engine::stop() {
  stopped_ = true;
  run_seals();     // their memory is the transport's: done before it lets it go
  opens_.clear();  // not delivered any more
  if (closed_) return;
  closed_ = true;
  device_.set_observer(nullptr);
  transport_.stop();
  device_.close();
}

void Engine::on_timer() {
  if (stopped_) return;
  settle();
  for (auto& peer : peers_) peer->tick();
  if (ethernet_ && hub_) macs_.expire(clock_.now());
  util::report_suppressed(log_, wire_complaints_, util::LogLevel::warn, "refused input");
}

crypto::SessionStats Engine::crypto_stats() const {
  crypto::SessionStats sum = unrouted_;
  if (identity_) sum += identity_->stats();
  for (const auto& peer : peers_)
    if (peer->session()) sum += peer->session()->stats();
  return sum;
}

void Engine::keys_changed(std::optional<crypto::Key> peer_public) {
  settle();
  for (auto& peer : peers_) peer->keys_changed(peer_public);
}

// The transport resumes a waiting pump when a socket drains; a peer coming or going
// changes the picture too (then it drains the device itself rather than wait on a dead
// endpoint), so the pump is resumed here as well.
void Engine::on_peer_state(Peer& peer, bool up) {
  if (hub_) on_hub_peer_state(peer, up);
  if (observer_) observer_(peer, up);
  if (waiting_writable_) {
    waiting_writable_ = false;
    ++pump_wait_;
    pump_outbound();
  }
}

void Engine::fail(const std::string& why) {
  if (failed_) return;
  failed_ = true;
  stopped_ = true;  // nothing more is read or written from here on
  // Closed on the next turn: fail() may run inside a transport or device callback.
  device_.async_pause(std::chrono::milliseconds(0), lifetime_.guard([this] { stop(); }));
  if (on_failure_)
    on_failure_(why);
  else
    log_.error(why);
}

void Engine::complain(const std::string& what) {
  util::warn_limited(log_, complaints_, what);
}

}  // namespace tund::tunnel
