// An in-memory packet device for engine tests: packets injected with inject() are what
// the engine reads; what the engine writes is collected in written(). The test side can
// also play the administrator: change the MTU, rename, add addresses, delete the device,
// or make reads fail.
#pragma once

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
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
      : io_(io), link_(link), mtu_(mtu), pause_timer_(io) {}

  const std::string& name() const override { return name_; }
  device::LinkLayer link_layer() const override { return link_; }
  unsigned mtu() const override { return mtu_; }
  std::vector<device::Ipv4Prefix> ipv4_addresses() const override { return addresses_; }
  bool exists() const override { return exists_; }
  void set_observer(device::DeviceObserver* observer) override { observer_ = observer; }

  void async_wait_readable(WaitHandler handler) override {
    waiter_ = std::move(handler);
    ++waits_;
    wake();
  }
  // A real timer: a test's io.poll() does not run it until the delay has passed.
  void async_pause(std::chrono::milliseconds delay, std::function<void()> handler) override {
    ++pauses_;
    pause_timer_.expires_after(delay);
    pause_timer_.async_wait([h = std::move(handler)](std::error_code ec) {
      if (!ec) h();
    });
  }
  std::size_t read_packet(util::ByteSpan buffer, std::error_code& ec) override {
    ++read_calls_;
    if (read_error_) {
      ec = *read_error_;
      return 0;
    }
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
  std::error_code flush_writes() override {
    ++flushes_;
    return {};
  }
  void set_checksums_trusted(bool trusted) override { checksums_trusted_ = trusted; }
  bool checksums_trusted() const { return checksums_trusted_; }
  void close() override {
    waiter_ = nullptr;
    closed_ = true;
  }

  // Test side.
  void inject(Packet p) {
    inbound_.push_back(std::move(p));
    wake();
  }
  const std::vector<Packet>& written() const { return written_; }
  // Makes every write fail as the kernel would (e.g. EIO while the interface is down).
  void fail_writes(std::optional<std::errc> error) { write_error_ = error; }
  // Makes every read fail, and the fd stay "readable" (as a deleted TUN device's does).
  void fail_reads(std::optional<std::error_code> error) {
    read_error_ = error;
    if (error && waiter_) asio::post(io_, [h = std::exchange(waiter_, nullptr)] { h({}); });
  }
  // The administrator's commands, as netlink would report them.
  void change_mtu(unsigned mtu) {
    unsigned old = std::exchange(mtu_, mtu);
    if (observer_) observer_->on_mtu_changed(old, mtu);
  }
  void rename(const std::string& name) {
    std::string old = std::exchange(name_, name);
    if (observer_) observer_->on_renamed(old, name_);
  }
  void set_addresses(std::vector<device::Ipv4Prefix> addresses) {
    addresses_ = std::move(addresses);
    if (observer_) observer_->on_addresses_changed(addresses_);
  }
  void remove() {
    exists_ = false;
    if (observer_) observer_->on_gone("device " + name_ + " was deleted");
  }
  void set_exists(bool exists) { exists_ = exists; }
  std::size_t pending() const { return inbound_.size(); }
  std::size_t reads() const { return reads_; }
  std::size_t read_calls() const { return read_calls_; }
  std::size_t pauses() const { return pauses_; }
  std::size_t write_flushes() const { return flushes_; }
  bool closed() const { return closed_; }

 private:
  void wake() {
    if (!waiter_ || inbound_.empty()) return;
    asio::post(io_, [h = std::move(waiter_)] { h({}); });
    waiter_ = nullptr;
  }

  asio::io_context& io_;
  device::LinkLayer link_;
  unsigned mtu_;
  asio::steady_timer pause_timer_;
  std::string name_ = "fake0";
  std::vector<device::Ipv4Prefix> addresses_;
  device::DeviceObserver* observer_ = nullptr;
  std::deque<Packet> inbound_;
  std::vector<Packet> written_;
  WaitHandler waiter_;
  std::size_t reads_ = 0, read_calls_ = 0, waits_ = 0, pauses_ = 0, flushes_ = 0;
  std::optional<std::errc> write_error_;
  std::optional<std::error_code> read_error_;
  bool exists_ = true;
  bool closed_ = false;
  bool checksums_trusted_ = false;
};

// A minimal IPv4 packet (20-byte header + payload, total length filled in) that passes
// the engine's checks.
inline Packet ipv4_packet(std::size_t payload, std::byte fill = std::byte{0xab}) {
  Packet p(20 + payload, fill);
  p[0] = std::byte{0x45};
  util::store_be16(p.data() + 2, static_cast<std::uint16_t>(p.size()));
  return p;
}

}  // namespace tund::testing
