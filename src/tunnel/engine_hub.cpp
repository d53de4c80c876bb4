// Hub mode's data path: routing device packets to peers by allowed-ips (TUN) or learned
// MAC (TAP), the per-peer queues, and the source check on what peers send (engine.hpp
// has the overview).
#include <algorithm>
#include <cstring>

#include "tund/proto/wire.hpp"
#include "tund/tunnel/engine.hpp"
#include "tund/tunnel/frame_check.hpp"
#include "tund/util/ip.hpp"

namespace tund::tunnel {
namespace {

constexpr int kHubBatch = 64;  // as the single-peer pump: then yield to the inbound side
constexpr std::size_t kMacSize = 6, kSourceMacOffset = 6;

MacBytes destination_mac(util::ConstByteSpan frame) {
  return MacBytes{frame.data(), kMacSize};
}
MacBytes source_mac(util::ConstByteSpan frame) {
  return MacBytes{frame.data() + kSourceMacOffset, kMacSize};
}

// An IP packet's source address (plausible_frame has checked the header is there).
std::pair<IpFamily, util::ConstByteSpan> source_of(util::ConstByteSpan packet) {
  if (util::ip_version(packet.data()) == 4) return {IpFamily::v4, packet.subspan(12, 4)};
  return {IpFamily::v6, packet.subspan(8, 16)};
}

// IPv6 with a link-local source (fe80::/10, RFC 4291 2.5.6).
bool link_local_source(util::ConstByteSpan packet) {
  if (util::ip_version(packet.data()) != 6) return false;
  return std::to_integer<unsigned>(packet[8]) == 0xfe &&
         (std::to_integer<unsigned>(packet[9]) & 0xc0u) == 0x80;
}

}  // namespace

// ---- outbound: device -> routed peer ------------------------------------------------------

void Engine::pump_hub() {
  auto now = link::Responder::Clock::now();  // once per batch, as pump_outbound does
  DeferredSeals batch(*this);
  for (int i = 0; i < kHubBatch; ++i) {
    std::error_code ec;
    std::size_t n = device_.read_packet(scratch_, ec);
    if (ec) {
      if (ec != std::errc::operation_would_block) on_read_error(ec);
      break;
    }
    ++stats_.device_reads;
    util::ConstByteSpan frame{scratch_.data(), n};
    if (answered_locally(frame, now)) continue;
    if (n > max_frame_) {
      stats_.dropped.add(Drop::too_big);
      complain_too_big(n);
      continue;
    }
    if (log_.enabled(util::LogLevel::debug))
      log_.debug("dev>net ", describe_frame(frame, device_.link_layer()));
    if (ethernet_)
      switch_frame(kDevicePort, frame);
    else
      route_from_device(frame);
  }
  transport_.flush();
  // The flush may have made room (a socket that took everything): no writable event
  // would come for that, so the queues are tried now rather than only on an event.
  if (!backlogged_.empty()) drain_backlog();
  if (!stopped_ && !read_error_pending_) wait_for_device();
}

void Engine::route_from_device(util::ConstByteSpan frame) {
  Peer* peer = route(link::destination_of(frame, false));
  if (!peer || !peer->up()) return stats_.dropped.add(Drop::no_peer);
  send_to(*peer, frame);
}

// The learning switch: learn where the source lives, then send to the destination's port,
// or flood to every up port but the ingress.
void Engine::switch_frame(PortId ingress, util::ConstByteSpan frame) {
  if (frame.size() < util::kEthernetHeader) return stats_.dropped.add(Drop::malformed);
  auto now = clock_.now();
  Learned learned = macs_.learn(source_mac(frame), ingress, now);
  if (learned == Learned::moved) ++stats_.mac_moves;
  if (learned == Learned::refused) ++stats_.mac_refused;
  Forward where = forward(macs_, destination_mac(frame), ingress, now);
  if (where.kind == Forward::Kind::drop) return;
  if (where.kind == Forward::Kind::one_port) {
    if (where.port == kDevicePort) return deliver_plausible(frame);
    Peer* peer = peer_by_id(where.port);
    if (peer && peer->up()) return send_to(*peer, frame);
    return stats_.dropped.add(Drop::no_peer);
  }
  if (where.sends_to(kDevicePort)) deliver_plausible(frame);
  for (auto& peer : peers_)
    if (peer->up() && where.sends_to(peer->id())) send_to(*peer, frame);
}

// Straight into the peer's next message when it can take it and nothing waits before it
// (what waits goes first); else into its queue (full: dropped and counted for that peer
// alone).
void Engine::send_to(Peer& peer, util::ConstByteSpan frame) {
  if (send_queued(peer)) return transmit(peer, frame);
  if (!peer.up()) return stats_.dropped.add(Drop::no_peer);
  if (!peer.queue().push(frame)) {
    peer.count_queue_drop();
    return stats_.dropped.add(Drop::queue_full);
  }
  if (peer.queue().size() == 1) backlogged_.push_back(&peer);
}

void Engine::transmit(Peer& peer, util::ConstByteSpan frame) {
  const transport::Endpoint& to = *peer.endpoint();
  util::ByteSpan message = transport_.message_slot(to);
  std::memcpy(message.data() + peer.frame_offset(), frame.data(), frame.size());
  commit(to, peer.finish_message(message, frame.size(), clock_.now(), deferred_seals()));
}

// Sends what waits in the peer's queue while its endpoint takes it; true when the queue
// is empty and the endpoint can take more.
bool Engine::send_queued(Peer& peer) {
  OutboundQueue& queue = peer.queue();
  while (!queue.empty() && peer.writable()) {
    transmit(peer, queue.front());
    queue.pop();
  }
  return queue.empty() && peer.writable();
}

// Some endpoint drained (or one came or went): each backlogged peer sends what it can.
// A flush can make room at once (nothing else would say so), so a few rounds are tried
// before waiting for the transport's writable event.
void Engine::drain_backlog() {
  constexpr int kRounds = 4;
  for (int round = 0; round < kRounds && !backlogged_.empty(); ++round) {
    std::size_t before = 0, after = 0;
    std::vector<Peer*> still;
    for (Peer* peer : std::exchange(backlogged_, {})) {
      before += peer->queue_size();
      send_queued(*peer);
      after += peer->queue_size();
      if (!peer->queue().empty()) still.push_back(peer);
    }
    backlogged_ = std::move(still);
    transport_.flush();
    if (after == before) break;  // nobody could send: wait for the transport
  }
  if (!backlogged_.empty()) wait_for_backlog();
}

void Engine::wait_for_backlog() {
  if (waiting_backlog_ || stopped_) return;
  waiting_backlog_ = true;
  transport_.when_writable(lifetime_.guard([this] {
    waiting_backlog_ = false;
    if (!stopped_) drain_backlog();
  }));
}

// ---- inbound: a peer's frame ---------------------------------------------------------------

void Engine::deliver_from(Peer& peer, util::ConstByteSpan frame) {
  if (!hub_ || frame.empty()) return deliver(frame);
  if (stopped_ || !plausible(frame)) return;  // checked once: the paths below take it as is
  if (ethernet_) return switch_frame(peer.id(), frame);
  // A client's kernel speaks IPv6 link-local on its tunnel (router solicitations to
  // ff02::2): not spoofing, but no peer's allowed-ips can hold fe80::/10 (every client may
  // use the same address), so counted on its own and not logged.
  if (link_local_source(frame)) return stats_.dropped.add(Drop::link_local);
  if (!source_allowed(peer, frame)) {
    peer.count_spoofed();
    stats_.dropped.add(Drop::spoofed);
    return wire_complaint([&] {
      return "dropped a packet from peer " + peer.name() + ": " +
             describe_frame(frame, device_.link_layer()) + " (source outside its allowed-ips)";
    });
  }
  deliver_plausible(frame);
}

bool Engine::source_allowed(const Peer& peer, util::ConstByteSpan packet) const {
  auto [family, address] = source_of(packet);
  auto owner = allowed_ips_.lookup(family, address);
  return owner && *owner == peer.id();
}

// ---- routing ------------------------------------------------------------------------------

Peer* Engine::route(const link::Destination& destination) const {
  if (destination.family != 4 && destination.family != 6) return nullptr;
  IpFamily family = destination.family == 4 ? IpFamily::v4 : IpFamily::v6;
  auto id = allowed_ips_.lookup(family, {destination.address.data(), address_size(family)});
  return id ? peer_by_id(*id) : nullptr;
}

// What the responder asks before forwarding: no up peer means "unreachable".
bool Engine::hub_peer_up_for(const link::Destination& destination) const {
  if (!ethernet_) {
    const Peer* peer = route(destination);
    return peer && peer->up();
  }
  MacBytes mac{destination.mac.data(), kMacSize};
  auto port = is_group_mac(mac) ? std::nullopt : macs_.lookup(mac, clock_.now());
  if (!port) return peers_up_ > 0;  // flooded
  const Peer* peer = peer_by_id(*port);
  return peer && peer->up();
}

Peer* Engine::peer_by_id(PeerId id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

Peer* Engine::peer_for_key(const crypto::Key& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : it->second;
}

}  // namespace tund::tunnel
