#include "tund/tunnel/engine.hpp"

#include "tund/proto/wire.hpp"
#include "tund/tunnel/frame_check.hpp"

namespace tund::tunnel {
namespace {

// Packets per wake-up before the engine yields to the inbound direction; 64 full-size
// packets fill about 90 KB, enough to amortise one send() well.
constexpr int kOutboundBatch = 64;

}  // namespace

Engine::Engine(device::Device& device, transport::Transport& transport, util::Logger& log,
               link::Responder* responder)
    : device_(device),
      transport_(transport),
      log_(log),
      responder_(responder),
      max_frame_(
          proto::max_frame_size(device.mtu(), device.link_layer() == device::LinkLayer::ethernet)),
      scratch_(proto::kMaxFrameAbsolute) {}

void Engine::start() {
  transport_.start(*this);
  wait_for_device();
}

void Engine::stop() {
  stopped_ = true;
  transport_.stop();
  device_.close();
}

// ---- outbound ---------------------------------------------------------------------------

void Engine::wait_for_device() {
  device_.async_wait_readable([this](std::error_code ec) {
    if (stopped_ || ec) return;
    pump_outbound();
  });
}

void Engine::pump_outbound() {
  if (stopped_) return;
  if (!transport_.peer_up()) {
    drain_without_peer();
    wait_for_device();
    return;
  }
  for (int i = 0; i < kOutboundBatch; ++i) {
    if (!transport_.writable()) {
      transport_.flush();
      // Resumed when the socket drains or the peer comes or goes; the device is not read
      // meanwhile, which is the backpressure.
      transport_.when_writable([this] { pump_outbound(); });
      return;
    }
    if (!read_one_into_transport()) break;
  }
  transport_.flush();
  wait_for_device();
}

// Returns false once the device has nothing more to read.
bool Engine::read_one_into_transport() {
  std::error_code ec;
  util::ByteSpan slot = transport_.tx_slot();
  std::size_t n = device_.read_packet(slot, ec);
  if (ec) {
    if (ec != std::errc::operation_would_block) {
      ++stats_.device_read_errors;
      complain("device read failed: " + ec.message());
    }
    return false;
  }
  if (n == 0) return true;
  ++stats_.device_reads;
  util::ConstByteSpan frame = slot.first(n);
  if (answered_locally(frame, true)) return true;
  if (n > max_frame_) {  // the device MTU was raised beyond the tunnel's
    ++stats_.dropped_too_big;
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
    if (ec) return;
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
  std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(frame.data()),
                                      frame.size());
  link::Decision d = responder_->on_device_frame(bytes, peer_up, link::Responder::Clock::now());
  if (d == link::Decision::forward) return false;
  if (frame.size() > max_frame_) ++stats_.dropped_too_big;
  if (d == link::Decision::reply) {
    auto reply = responder_->reply();
    std::error_code ec;
    device_.write_packet({reinterpret_cast<const std::byte*>(reply.data()), reply.size()}, ec);
    ++stats_.answered_locally;
    if (log_.enabled(util::LogLevel::debug))
      log_.debug("answered locally: ", describe_frame(frame, device_.link_layer()));
  } else if (!peer_up) {
    ++stats_.dropped_no_peer;
  }
  return true;
}

// ---- inbound ----------------------------------------------------------------------------

void Engine::on_frame(util::ConstByteSpan frame) {
  if (!plausible_frame(frame, device_.link_layer())) {
    ++stats_.dropped_malformed;
    complain("dropped a received frame that is not a valid packet: " +
             describe_frame(frame, device_.link_layer()));
    return;
  }
  if (log_.enabled(util::LogLevel::debug))
    log_.debug("net>dev ", describe_frame(frame, device_.link_layer()));
  std::error_code ec;
  device_.write_packet(frame, ec);
  if (ec == std::errc::io_error) {
    // The kernel refuses writes while the interface is down (not yet configured, or taken
    // down by the admin): expected, so one line per down period rather than a warning each.
    ++stats_.dropped_device_down;
    if (!device_down_) log_.info("device ", device_.name(), " is down; dropping received packets");
    device_down_ = true;
    return;
  }
  if (ec) {
    ++stats_.device_write_errors;
    complain("device write failed: " + ec.message());
    return;
  }
  if (device_down_) log_.info("device ", device_.name(), " is up; delivering packets");
  device_down_ = false;
  ++stats_.device_writes;
}

void Engine::on_peer_state(bool up) {
  // The transport resumes a waiting pump itself; here the outside world is told.
  if (observer_) observer_(up);
}

void Engine::complain(const std::string& what) {
  util::warn_limited(log_, complaints_, what);
}

}  // namespace tund::tunnel
