#include "tund/tunnel/engine.hpp"

#include <algorithm>

#include "tund/proto/timers.hpp"
#include "tund/proto/wire.hpp"
#include "tund/tunnel/frame_check.hpp"

namespace tund::tunnel {
namespace {

// Packets per wake-up before the engine yields to the inbound direction; 64 full-size
// packets fill about 90 KB, enough to amortise one send() well.
constexpr int kOutboundBatch = 64;

// What the tunnel carries: the device's MTU, up to what the wire format can hold.
unsigned tunnel_mtu_for(unsigned device_mtu) {
  return std::min(device_mtu, proto::kMaxTunnelMtu);
}

std::size_t max_frame_for(unsigned mtu, device::LinkLayer link) {
  return std::min(proto::max_frame_size(mtu, link == device::LinkLayer::ethernet),
                  proto::kMaxFrameAbsolute);
}

std::vector<link::Ipv4Subnet> subnets_of(const std::vector<device::Ipv4Prefix>& prefixes) {
  std::vector<link::Ipv4Subnet> subnets;
  for (const auto& p : prefixes) subnets.push_back({p.address, p.prefix_len, p.broadcast});
  return subnets;
}

// Errors a healthy device gives for one packet or a full queue: no reason to doubt it
// still exists (and no syscall per packet to check).
bool ordinary_write_error(std::error_code ec) {
  return ec == std::errc::no_buffer_space || ec == std::errc::operation_would_block ||
         ec == std::errc::not_enough_memory || ec == std::errc::invalid_argument ||
         ec == std::errc::message_size;
}

}  // namespace

Engine::Engine(device::Device& device, transport::Transport& transport, util::Logger& log,
               link::Responder* responder)
    : device_(device),
      transport_(transport),
      log_(log),
      responder_(responder),
      mtu_(tunnel_mtu_for(device.mtu())),
      max_frame_(max_frame_for(mtu_, device.link_layer())),
      scratch_(proto::kMaxFrameAbsolute) {}

void Engine::start() {
  device_.set_observer(this);
  if (mtu_ < device_.mtu()) log_capped_mtu(device_.mtu());
  if (responder_) {
    responder_->set_tunnel_mtu(mtu_);
    responder_->set_local_subnets(subnets_of(device_.ipv4_addresses()));
  }
  transport_.start(*this);
  wait_for_device();
}

void Engine::stop() {
  stopped_ = true;
  if (closed_) return;
  closed_ = true;
  device_.set_observer(nullptr);
  transport_.stop();
  device_.close();
}

void Engine::fail(const std::string& why) {
  if (failed_) return;
  failed_ = true;
  stopped_ = true;  // nothing more is read or written from here on
  // Closed on the next turn: fail() may run inside a transport or device callback.
  device_.async_pause(std::chrono::milliseconds(0), [this] { stop(); });
  if (on_failure_)
    on_failure_(why);
  else
    log_.error(why);
}

// ---- outbound ---------------------------------------------------------------------------

void Engine::wait_for_device() {
  device_.async_wait_readable([this](std::error_code ec) {
    if (stopped_) return;
    if (ec) return on_read_error(ec);
    pump_outbound();
  });
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
  device_.async_pause(proto::kDeviceErrorPause, [this] {
    read_error_pending_ = false;
    if (!stopped_) wait_for_device();
  });
}

void Engine::pump_outbound() {
  if (stopped_) return;
  if (!transport_.peer_up()) {
    drain_without_peer();
    if (!stopped_ && !read_error_pending_) wait_for_device();
    return;
  }
  for (int i = 0; i < kOutboundBatch; ++i) {
    if (!transport_.writable()) {
      transport_.flush();
      // The flush may have drained everything at once (a socket with room): then no
      // writable event will come, so carry on rather than wait for one.
      if (transport_.writable()) continue;
      // Resumed when the socket drains or the peer comes or goes; the device is not read
      // meanwhile, which is the backpressure.
      transport_.when_writable([this] { pump_outbound(); });
      return;
    }
    if (!read_one_into_transport()) break;
  }
  transport_.flush();
  if (!stopped_ && !read_error_pending_) wait_for_device();
}

// Returns false once the device has nothing more to read (or failed: then the error path
// has taken over the waiting).
bool Engine::read_one_into_transport() {
  std::error_code ec;
  util::ByteSpan slot = transport_.tx_slot();
  std::size_t n = device_.read_packet(slot, ec);
  if (ec) {
    if (ec != std::errc::operation_would_block) on_read_error(ec);
    return false;
  }
  if (n == 0) return true;
  ++stats_.device_reads;
  util::ConstByteSpan frame = slot.first(n);
  if (answered_locally(frame, true)) return true;
  if (n > max_frame_) {  // the device MTU was raised beyond the tunnel's
    ++stats_.dropped_too_big;
    complain_too_big(n);
    return true;
  }
  if (log_.enabled(util::LogLevel::debug))
    log_.debug("dev>net ", describe_frame(frame, device_.link_layer()));
  transport_.commit(n);
  return true;
}

void Engine::drain_without_peer() {
  for (int i = 0; i < kOutboundBatch; ++i) {
    std::error_code ec;
    std::size_t n = device_.read_packet(scratch_, ec);
    if (ec) {
      if (ec != std::errc::operation_would_block) on_read_error(ec);
      return;
    }
    ++stats_.device_reads;
    util::ConstByteSpan frame{scratch_.data(), n};
    if (answered_locally(frame, false)) continue;
    ++stats_.dropped_no_peer;
    if (log_.enabled(util::LogLevel::debug))
      log_.debug("no peer, dropped ", describe_frame(frame, device_.link_layer()));
  }
}

bool Engine::answered_locally(util::ConstByteSpan frame, bool peer_up) {
  if (!responder_) return false;
  link::Decision d = responder_->on_device_frame(frame, peer_up, link::Responder::Clock::now());
  if (d == link::Decision::forward) return false;
  if (frame.size() > max_frame_) {
    ++stats_.dropped_too_big;
    if (d == link::Decision::drop) complain_too_big(frame.size());  // no ICMP told the sender
  }
  if (d == link::Decision::reply) {
    std::error_code ec;
    device_.write_packet(responder_->reply(), ec);
    if (ec) device_write_failed(ec);
    ++stats_.answered_locally;
    if (log_.enabled(util::LogLevel::debug))
      log_.debug("answered locally: ", describe_frame(frame, device_.link_layer()));
  } else if (!peer_up) {
    ++stats_.dropped_no_peer;
  }
  return true;
}

void Engine::complain_too_big(std::size_t size) {
  util::warn_limited(log_, too_big_log_,
                     "dropped a " + std::to_string(size) + "-byte packet from device " +
                         device_.name() + ": larger than the tunnel MTU " + std::to_string(mtu_) +
                         " and it may not be fragmented here");
}

// ---- inbound ----------------------------------------------------------------------------

void Engine::on_frame(util::ConstByteSpan frame) {
  if (stopped_) return;
  if (!plausible_frame(frame, device_.link_layer())) {
    ++stats_.dropped_malformed;
    complain("dropped a received frame that is not a valid packet: " +
             describe_frame(frame, device_.link_layer()));
    return;
  }
  if (log_.enabled(util::LogLevel::debug))
    log_.debug("net>dev ", describe_frame(frame, device_.link_layer()));
  note_above_mtu(frame);
  if (!write_to_device(frame)) return;
  if (device_down_)
    util::log_limited(log_, device_state_log_, util::LogLevel::info,
                      "device " + device_.name() + " is up; delivering packets");
  device_down_ = false;
  ++stats_.device_writes;
}

// The kernel takes packets above the device MTU, so they are delivered; but the peer's
// MTU is larger than ours, which breaks path-MTU discovery the other way: say so once per
// new largest size.
void Engine::note_above_mtu(util::ConstByteSpan frame) {
  std::size_t size = network_packet_size(frame, device_.link_layer());
  if (size <= mtu_) return;
  ++stats_.received_above_mtu;
  stats_.largest_received = std::max<std::uint64_t>(stats_.largest_received, size);
  unsigned long suppressed = 0;
  if (size <= largest_logged_ || !above_mtu_log_.allow(util::LogLimiter::Clock::now(), suppressed))
    return;
  largest_logged_ = size;
  log_.warn("peer sends packets up to ", size, " bytes, above this tunnel's MTU ", mtu_,
            ": set the same --mtu on both sides");
}

bool Engine::write_to_device(util::ConstByteSpan frame) {
  std::error_code ec;
  device_.write_packet(frame, ec);
  if (!ec) return true;
  device_write_failed(ec);
  return false;
}

// Counts and logs (bounded); a "gone" device ends the engine.
void Engine::device_write_failed(std::error_code ec) {
  bool gone = device::error_means_gone(ec) ||
              (!ordinary_write_error(ec) && !device_down_ && !device_.exists());
  if (gone) {
    fail("device " + device_.name() + " is gone (write: " + ec.message() + ")");
    return;
  }
  if (ec == std::errc::io_error) {
    // The kernel refuses writes while the interface is down (not yet configured, or taken
    // down by the admin): expected, so one line per down period rather than a warning each.
    ++stats_.dropped_device_down;
    // Bounded too: a flapping link must not fill the log (the count says what was skipped).
    if (!device_down_)
      util::log_limited(log_, device_state_log_, util::LogLevel::info,
                        "device " + device_.name() + " is down; dropping received packets");
    device_down_ = true;
    return;
  }
  ++stats_.device_write_errors;
  complain("device write failed: " + ec.message());
}

void Engine::on_peer_state(bool up) {
  // The transport resumes a waiting pump itself; here the outside world is told.
  if (observer_) observer_(up);
}

// ---- the device changed under us -------------------------------------------------------

void Engine::on_mtu_changed(unsigned old_mtu, unsigned new_mtu) {
  mtu_ = tunnel_mtu_for(new_mtu);
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

void Engine::complain(const std::string& what) {
  util::warn_limited(log_, complaints_, what);
}

}  // namespace tund::tunnel
