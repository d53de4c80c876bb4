// An in-memory packet device for engine tests: packets injected with inject() are what
// the engine reads; what the engine writes is collected in written().
#pragma once

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "tund/device/device.hpp"

namespace tund::testing {

using Packet = std::vector<std::byte>;

class FakeDevice final : public device::Device {
 public:
  FakeDevice(asio::io_context& io, device::LinkLayer link, unsigned mtu = 1400)
      : io_(io), link_(link), mtu_(mtu) {}

  const std::string& name() const override { return name_; }
  device::LinkLayer link_layer() const override { return link_; }
  unsigned mtu() const override { return mtu_; }

  void async_wait_readable(WaitHandler handler) override {
    waiter_ = std::move(handler);
    wake();
  }
  std::size_t read_packet(util::ByteSpan buffer, std::error_code& ec) override {
    if (inbound_.empty()) {
      ec = std::make_error_code(std::errc::operation_would_block);
      return 0;
    }
    Packet p = std::move(inbound_.front());
    inbound_.pop_front();
    std::size_t n = std::min(p.size(), buffer.size());
    std::copy_n(p.begin(), n, buffer.begin());
    ec.clear();
    ++reads_;
    return n;
  }
  void write_packet(util::ConstByteSpan packet, std::error_code& ec) override {
    if (write_error_) {
      ec = std::make_error_code(*write_error_);
      return;
    }
    written_.emplace_back(packet.begin(), packet.end());
    ec.clear();
  }
  void close() override { waiter_ = nullptr; }

  // Test side.
  void inject(Packet p) {
    inbound_.push_back(std::move(p));
    wake();
  }
  const std::vector<Packet>& written() const { return written_; }
  // Makes every write fail as the kernel would (e.g. EIO while the interface is down).
  void fail_writes(std::optional<std::errc> error) { write_error_ = error; }
  std::size_t pending() const { return inbound_.size(); }
  std::size_t reads() const { return reads_; }

 private:
  void wake() {
    if (!waiter_ || inbound_.empty()) return;
    asio::post(io_, [h = std::move(waiter_)] { h({}); });
    waiter_ = nullptr;
  }

  asio::io_context& io_;
  device::LinkLayer link_;
  unsigned mtu_;
  std::string name_ = "fake0";
  std::deque<Packet> inbound_;
  std::vector<Packet> written_;
  WaitHandler waiter_;
  std::size_t reads_ = 0;
  std::optional<std::errc> write_error_;
};

// A minimal IPv4 packet (20-byte header + payload) that passes the engine's checks.
inline Packet ipv4_packet(std::size_t payload, std::byte fill = std::byte{0xab}) {
  Packet p(20 + payload, fill);
  p[0] = std::byte{0x45};
  return p;
}

}  // namespace tund::testing
