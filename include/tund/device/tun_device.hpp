// A Linux TUN (IP) or TAP (Ethernet) device from /dev/net/tun, opened with IFF_NO_PI so the
// bytes read and written are exactly the bytes on the wire format.
//
// Offloads (TUN only, on unless disabled): the device is opened with IFF_VNET_HDR and
// TUNSETOFFLOAD (checksum, TSO4/6, USO4/6 where the kernel has them), so one read returns
// up to 64 KB of one TCP/UDP flow. read_packet() still returns ordinary MTU-sized packets:
// it segments the super-packet itself (offload/segmenter.hpp), one segment per call.
// write_packet() merges consecutive segments of a TCP flow (offload/coalescer.hpp) and
// writes them as one super-packet when the engine ends the batch (flush_writes(), after
// each socket read's worth of frames), so the engine and the wire never see the difference. A
// kernel without these features gets the plain path; offload_status() says which one is running.
#pragma once

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tund/device/device.hpp"
#include "tund/device/link_watcher.hpp"
#include "tund/offload/coalescer.hpp"
#include "tund/offload/segmenter.hpp"

namespace tund::device {

// Thrown when the device cannot be opened/configured; what() is a complete one-line message.
class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TunOptions {
  // e.g. "tun3"; created if missing, attached if persistent. A template such as "tun%d"
  // lets the kernel pick a free name (always a new device); name() then returns it.
  std::string name;
  LinkLayer link_layer = LinkLayer::ip;
  std::optional<unsigned> mtu;  // set on the device when given
  bool offload = true;          // --no-offload turns it off (TAP never has it)
};

// What the offload path did; printed with the other counters.
struct OffloadStats {
  std::uint64_t super_packets_read = 0;  // GSO reads split into segments
  std::uint64_t segments_made = 0;
  std::uint64_t bad_super_packets = 0;  // inconsistent GSO reads (dropped)
  std::uint64_t super_packets_written = 0;
  std::uint64_t segments_merged = 0;
};

class TunDevice final : public Device {
 public:
  TunDevice(asio::io_context& io, const TunOptions& options);
  ~TunDevice() override;

  const std::string& name() const override { return name_; }
  LinkLayer link_layer() const override { return link_layer_; }
  unsigned mtu() const override { return mtu_; }
  std::vector<Ipv4Prefix> ipv4_addresses() const override { return addresses_; }
  bool exists() const override;
  void set_observer(DeviceObserver* observer) override { observer_ = observer; }
  int ifindex() const { return ifindex_; }
  // True when the device existed before tund attached (made with `ip tuntap add`): it is
  // left in place at exit, while a device tund created disappears with its fd.
  bool was_persistent() const { return existed_before_; }
  bool offload_enabled() const { return offload_; }
  // One line for the log: which offloads are on, or why the plain path runs.
  const std::string& offload_status() const { return offload_status_; }
  OffloadStats offload_stats() const;
  const std::string& last_bad_read() const { return last_bad_read_; }

  void async_wait_readable(WaitHandler handler) override;
  void async_pause(std::chrono::milliseconds delay, std::function<void()> handler) override;
  std::size_t read_packet(util::ByteSpan buffer, std::error_code& ec) override;
  void write_packet(util::ConstByteSpan packet, std::error_code& ec) override;
  std::error_code flush_writes() override;
  void set_checksums_trusted(bool trusted) override { coalescer_.set_checksums_trusted(trusted); }
  void close() override;

 private:
  std::size_t read_super_packet(util::ByteSpan buffer, std::error_code& ec);
  void write_one(const offload::VnetHeader& header, util::ConstByteSpan packet);
  std::error_code write_iov(const struct iovec* iov, int count);
  void open(const TunOptions& options);
  void on_link_event(const LinkEvent& event);
  void on_link_changed(const LinkEvent& event);
  void on_address_event(const LinkEvent& event);
  void resynchronise();
  void report_gone(const std::string& why);

  asio::posix::stream_descriptor fd_;
  asio::steady_timer pause_timer_;
  std::string name_;  // current: follows renames
  LinkLayer link_layer_;
  unsigned mtu_ = 0;  // current: follows changes on the live device
  int ifindex_ = 0;   // stable identity: names can change, the index does not
  bool existed_before_ = false;
  std::vector<Ipv4Prefix> addresses_;
  std::unique_ptr<LinkWatcher> watcher_;
  DeviceObserver* observer_ = nullptr;
  bool gone_ = false;

  bool offload_ = false;
  std::string offload_status_;
  OffloadStats offload_stats_;
  std::vector<std::byte> super_packet_;  // the GSO read being segmented
  offload::Segmenter segmenter_;
  offload::Coalescer coalescer_;
  offload::Coalescer::Emit write_one_;
  std::string last_bad_read_;    // why the last unsplittable GSO read was dropped
  std::error_code write_error_;  // the first failed write of the current call
};

}  // namespace tund::device
