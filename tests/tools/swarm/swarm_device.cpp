#include "swarm/swarm_device.hpp"

#include <asio/post.hpp>

namespace tund::swarm {
namespace {

link::ResponderConfig responder_config(const SwarmDeviceConfig& config) {
  link::ResponderConfig rc;
  rc.ethernet = config.ethernet;
  rc.link_ip = config.address;
  rc.link_mac = link::mac_from_name(config.name);
  rc.tunnel_mtu = config.mtu;
  return rc;
}

}  // namespace

SwarmDevice::SwarmDevice(asio::io_context& io, SwarmDeviceConfig config)
    : io_(io),
      config_(std::move(config)),
      responder_(responder_config(config_)),
      pinger_(config_.address, config_.echo_id),
      pause_(io) {
  // The subnet's broadcast must never draw an answer, as on a real device.
  responder_.set_local_subnets({{config_.address, config_.prefix_len, std::nullopt}});
}

device::LinkLayer SwarmDevice::link_layer() const {
  return config_.ethernet ? device::LinkLayer::ethernet : device::LinkLayer::ip;
}

std::vector<device::Ipv4Prefix> SwarmDevice::ipv4_addresses() const {
  return {{config_.address, config_.prefix_len, std::nullopt}};
}

void SwarmDevice::async_wait_readable(WaitHandler handler) {
  waiter_ = std::move(handler);
  wake();
}

void SwarmDevice::async_pause(std::chrono::milliseconds delay, std::function<void()> handler) {
  pause_.expires_after(delay);
  pause_.async_wait([h = std::move(handler)](std::error_code ec) {
    if (!ec) h();
  });
}

std::size_t SwarmDevice::read_packet(util::ByteSpan buffer, std::error_code& ec) {
  if (queue_.empty()) {
    ec = std::make_error_code(std::errc::operation_would_block);
    return 0;
  }
  std::vector<std::byte> frame = std::move(queue_.front());
  queue_.pop_front();
  std::size_t n = std::min(frame.size(), buffer.size());
  std::copy_n(frame.begin(), n, buffer.begin());
  ec.clear();
  ++stats_.read_by_engine;
  return n;
}

// A frame from the tunnel: a reply to our own ping, or something for the host behind the
// device, which the responder answers (echo, ARP) or not. The peer is up (the frame just
// came through it), so the responder never answers "unreachable" here.
void SwarmDevice::write_packet(util::ConstByteSpan packet, std::error_code& ec) {
  ec.clear();
  ++stats_.delivered;
  auto now = link::Responder::Clock::now();
  if (!config_.ethernet && pinger_.on_packet(packet, now)) return;
  if (responder_.on_device_frame(packet, true, now) == link::Decision::reply) {
    ++stats_.answered;
    enqueue(responder_.reply());
    return;
  }
  ++stats_.not_answered;
}

void SwarmDevice::close() {
  closed_ = true;
  waiter_ = nullptr;
  queue_.clear();
  pause_.cancel();
}

bool SwarmDevice::send_ping(const link::Ipv4& to) {
  if (config_.ethernet || closed_) return false;
  return enqueue(pinger_.request(to, Pinger::Clock::now()));
}

bool SwarmDevice::enqueue(util::ConstByteSpan frame) {
  if (closed_) return false;
  if (queue_.size() >= kMaxQueued) {
    ++stats_.queue_drops;
    return false;
  }
  queue_.emplace_back(frame.begin(), frame.end());
  wake();
  return true;
}

// The engine is told on the next turn of the loop, never from inside its own write call.
void SwarmDevice::wake() {
  if (!waiter_ || queue_.empty()) return;
  asio::post(io_, [h = std::exchange(waiter_, nullptr)] { h({}); });
}

}  // namespace tund::swarm
