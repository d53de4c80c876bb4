// Outbound: device -> responder -> peer -> transport (engine.hpp has the flow).
#include "tund/proto/timers.hpp"
#include "tund/proto/wire.hpp"
#include "tund/tunnel/engine.hpp"
#include "tund/tunnel/frame_check.hpp"

namespace tund::tunnel {
namespace {

// Packets per wake-up before the engine yields to the inbound direction; 64 full-size
// packets fill about 90 KB, enough to amortise one send() well.
constexpr int kOutboundBatch = 64;

}  // namespace

void Engine::wait_for_device() {
  device_.async_wait_readable(lifetime_.guard([this](std::error_code ec) {
    if (stopped_) return;
    if (ec) return on_read_error(ec);
    pump_outbound();
  }));
}

// Gone: stop for good. Anything else: counted, logged (bounded), and retried after a
// pause, so a device that keeps failing costs a few syscalls a second, not a core.
void Engine::on_read_error(std::error_code ec) {
  if (stopped_ || ec == std::errc::operation_canceled) return;
  if (device::error_means_gone(ec) || !device_.exists()) {
    fail("device " + device_.name() + " is gone (read: " + ec.message() + ")");
    return;
  }
  ++stats_.device_read_errors;
  complain("device " + device_.name() + " read failed: " + ec.message() + "; retrying");
  read_error_pending_ = true;
  device_.async_pause(proto::kDeviceErrorPause, lifetime_.guard([this] {
    read_error_pending_ = false;
    if (!stopped_) wait_for_device();
  }));
}

void Engine::pump_outbound() {
  if (stopped_) return;
  if (hub_) return pump_hub();
  Peer& peer = *peers_.front();
  if (!peer.up()) {
    drain_without_peer();
    if (!stopped_ && !read_error_pending_) wait_for_device();
    return;
  }
  // One clock read per batch, not per packet: the times only drive keepalive timers and
  // the ICMP error budget, which work in milliseconds and more.
  auto now = clock_.now();
  auto responder_now = link::Responder::Clock::now();
  DeferredSeals batch(*this);
  for (int i = 0; i < kOutboundBatch && peer.up(); ++i) {
    if (!peer.writable()) {
      transport_.flush();
      // The flush may have drained everything at once (a socket with room): then no
      // writable event will come, so carry on rather than wait for one.
      if (peer.writable() || !peer.up()) continue;
      return wait_for_writable();
    }
    if (!read_one_for(peer, now, responder_now)) break;
  }
  transport_.flush();
  if (!stopped_ && !read_error_pending_) wait_for_device();
}

// Resumed when the socket drains or the peer comes or goes; the device is not read
// meanwhile, which is the backpressure. A stale resume (the engine resumed itself on a
// peer change since) is recognised by its generation and ignored.
void Engine::wait_for_writable() {
  waiting_writable_ = true;
  unsigned generation = ++pump_wait_;
  transport_.when_writable(lifetime_.guard([this, generation] {
    if (stopped_ || !waiting_writable_ || generation != pump_wait_) return;
    waiting_writable_ = false;
    pump_outbound();
  }));
}

// Reads one packet into the peer's next message, behind the room for its header, and
// commits it. Returns false once the device has nothing more to read (or failed: then the
// error path has taken over the waiting).
bool Engine::read_one_for(Peer& peer, util::Clock::time_point now,
                          link::Responder::Clock::time_point responder_now) {
  util::ByteSpan message = transport_.message_slot(*peer.endpoint());
  // Room for the largest packet a read can return (so none is truncated) and the tag.
  std::size_t offset = peer.frame_offset();
  util::ByteSpan room = message.subspan(offset, message.size() - offset - proto::kAeadTagSize);
  std::error_code ec;
  std::size_t n = device_.read_packet(room, ec);
  if (ec) {
    if (ec != std::errc::operation_would_block) on_read_error(ec);
    return false;
  }
  if (n == 0) return true;
  ++stats_.device_reads;
  util::ConstByteSpan frame = room.first(n);
  if (answered_locally(frame, responder_now)) return true;
  if (n > max_frame_) {  // the device MTU was raised beyond the tunnel's
    stats_.dropped.add(Drop::too_big);
    complain_too_big(n);
    return true;
  }
  if (log_.enabled(util::LogLevel::debug))
    log_.debug("dev>net ", describe_frame(frame, device_.link_layer()));
  commit(*peer.endpoint(), peer.finish_message(message, n, now, deferred_seals()));
  return true;
}

void Engine::drain_without_peer() {
  auto now = link::Responder::Clock::now();
  for (int i = 0; i < kOutboundBatch; ++i) {
    std::error_code ec;
    std::size_t n = device_.read_packet(scratch_, ec);
    if (ec) {
      if (ec != std::errc::operation_would_block) on_read_error(ec);
      return;
    }
    ++stats_.device_reads;
    util::ConstByteSpan frame{scratch_.data(), n};
    if (answered_locally(frame, now)) continue;
    stats_.dropped.add(Drop::no_peer);
    if (log_.enabled(util::LogLevel::debug))
      log_.debug("no peer, dropped ", describe_frame(frame, device_.link_layer()));
  }
}

// Lets the responder see a frame from the device; true if it was handled locally.
bool Engine::answered_locally(util::ConstByteSpan frame, link::Responder::Clock::time_point now) {
  if (!responder_) return false;
  link::Decision d = responder_->on_device_frame(frame, *this, now);
  if (d == link::Decision::forward) return false;
  if (frame.size() > max_frame_) {
    stats_.dropped.add(Drop::too_big);
    if (d == link::Decision::drop) complain_too_big(frame.size());  // no ICMP told the sender
  }
  if (d == link::Decision::reply) {
    std::error_code ec;
    device_.write_packet(responder_->reply(), ec);
    if (!ec) ec = device_.flush_writes();
    if (ec) device_write_failed(ec);
    ++stats_.answered_locally;
    if (log_.enabled(util::LogLevel::debug))
      log_.debug("answered locally: ", describe_frame(frame, device_.link_layer()));
  } else if (!peer_up_for(link::destination_of(
                 frame, device_.link_layer() == device::LinkLayer::ethernet))) {
    stats_.dropped.add(Drop::no_peer);
  }
  return true;
}

Peer* Engine::peer_for(const link::Destination& /*destination*/) const {
  return peers_.front().get();
}

bool Engine::peer_up_for(const link::Destination& destination) const {
  if (hub_) return hub_peer_up_for(destination);
  const Peer* peer = peer_for(destination);
  return peer && peer->up();
}

void Engine::complain_too_big(std::size_t size) {
  util::warn_limited(log_, too_big_log_,
                     "dropped a " + std::to_string(size) + "-byte packet from device " +
                         device_.name() + ": larger than the tunnel MTU " + std::to_string(mtu_) +
                         " and it may not be fragmented here");
}

}  // namespace tund::tunnel
