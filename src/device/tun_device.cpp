#include "tund/device/tun_device.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <asio/post.hpp>
#include <cerrno>
#include <cstring>

#include "tund/device/netif.hpp"

namespace tund::device {
namespace {

// The largest IP packet (and so the largest GSO read: the kernel keeps TUN super-packets
// within the IPv4 total-length limit).
constexpr std::size_t kMaxPacket = 65535;
// The least of a read that goes to the caller's buffer even with a tiny MTU: any IP and
// transport header the segmenter needs fits in it.
constexpr std::size_t kMinHead = 576;

const char* kind_name(TunKind k) {
  return k == TunKind::tun ? "TUN" : "TAP";
}

// Refuses early, with a message that names the problem, the cases where TUNSETIFF would
// only say EINVAL: a TUN/TAP of the other kind, or an ordinary interface of that name.
void check_existing(const std::string& name, TunKind wanted, const InterfaceInfo& info) {
  if (!info.exists) return;
  if (!info.tun_kind)
    throw DeviceError("interface " + name + " exists and is not a TUN/TAP device");
  if (*info.tun_kind != wanted)
    throw DeviceError("device " + name + " exists as a " + kind_name(*info.tun_kind) +
                      " device, but " + kind_name(wanted) + " mode was asked for (" +
                      (wanted == TunKind::tap ? "drop -a" : "use -a") + ")");
}

// Not in every kernel's headers yet (USO arrived in Linux 6.2).
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

// Attaches to (or creates) the device; `name` becomes the name the kernel reports back,
// which differs from the one asked for when that was a template ("tun%d").
int open_tun(std::string& name, TunKind kind, bool vnet_header) {
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    throw DeviceError(std::string("cannot open /dev/net/tun: ") + strerror(errno) +
                      (errno == EACCES || errno == EPERM ? " (needs root or CAP_NET_ADMIN)" : ""));
  ifreq ifr{};
  ifr.ifr_flags = static_cast<short>((kind == TunKind::tun ? IFF_TUN : IFF_TAP) | IFF_NO_PI |
                                     (vnet_header ? IFF_VNET_HDR : 0));
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    ::close(fd);
    std::string why = strerror(err);
    if (err == EBUSY) why += " (another process is attached to it)";
    if (err == EPERM) why += " (needs CAP_NET_ADMIN, or the device belongs to another user)";
    throw DeviceError("cannot attach to " + std::string(kind_name(kind)) + " device " + name +
                      ": " + why);
  }
  ifr.ifr_name[IFNAMSIZ - 1] = '\0';
  name = ifr.ifr_name;
  return fd;
}

// Asks for the richest offload set the kernel accepts; returns a description, or an empty
// string if it accepts none (then the plain path must be used).
std::string enable_offloads(int fd) {
  struct Level {
    unsigned flags;
    const char* name;
  };
  const Level levels[] = {
      {TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6, "checksum, TSO4/6, USO4/6"},
      {TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, "checksum, TSO4/6 (no USO in this kernel)"},
  };
  for (const Level& level : levels)
    if (::ioctl(fd, TUNSETOFFLOAD, static_cast<unsigned long>(level.flags)) == 0) return level.name;
  return {};
}

bool is_template(const std::string& name) {
  return name.find('%') != std::string::npos;
}

}  // namespace

TunDevice::TunDevice(asio::io_context& io, const TunOptions& options)
    : fd_(io), pause_timer_(io), name_(options.name), link_layer_(options.link_layer) {
  if (name_.empty() || name_.size() >= IFNAMSIZ)
    throw DeviceError("invalid interface name '" + name_ + "' (1 to 15 characters)");
  open(options);
  ifindex_ = static_cast<int>(::if_nametoindex(name_.c_str()));
  if (ifindex_ == 0)
    throw DeviceError("device " + name_ + " vanished while it was set up: " + strerror(errno));
  // Subscribed before the MTU and addresses are set, so no later change is missed.
  watcher_ = std::make_unique<LinkWatcher>(io, ifindex_);
  watcher_->start(
      [this](const LinkEvent& e) { on_link_event(e); },
      [this](const std::string& why) {
        if (observer_)
          observer_->on_notice("no longer following changes to device " + name_ + ": " + why);
      });
  if (options.mtu) set_mtu(name_, *options.mtu);
  mtu_ = get_mtu(name_);
  addresses_ = read_ipv4_addresses(name_);
}

void TunDevice::open(const TunOptions& options) {
  TunKind kind = link_layer_ == LinkLayer::ip ? TunKind::tun : TunKind::tap;
  // A template always makes a new device: there is nothing to probe.
  if (!is_template(name_)) {
    InterfaceInfo info = probe_interface(name_);
    check_existing(name_, kind, info);
    existed_before_ = info.exists;
  }
  std::string asked = name_;
  if (kind == TunKind::tun && options.offload) {
    int fd = open_tun(name_, kind, true);
    offload_status_ = enable_offloads(fd);
    if (offload_status_.empty()) {
      int err = errno;
      ::close(fd);
      name_ = asked;  // a template may now pick another name: read it back again below
      offload_status_ =
          std::string("offloads unavailable (TUNSETOFFLOAD: ") + strerror(err) + "); plain path";
    } else {
      offload_status_ = "offloads on: " + offload_status_;
      offload_ = true;
      fd_.assign(fd);
    }
  } else {
    offload_status_ =
        kind == TunKind::tap ? "offloads off (TAP device)" : "offloads off (--no-offload)";
  }
  if (!offload_) fd_.assign(open_tun(name_, kind, false));
  if (offload_) {
    super_packet_.resize(kMaxPacket);
    write_one_ = [this](const offload::VnetHeader& h, util::ConstByteSpan p) { write_one(h, p); };
  }
}

TunDevice::~TunDevice() {
  close();
}

void TunDevice::async_wait_readable(WaitHandler handler) {
  // Segments of the last super-packet are still to be handed out: readable now.
  if (!segmenter_.done()) {
    asio::post(fd_.get_executor(), [handler = std::move(handler)] { handler({}); });
    return;
  }
  fd_.async_wait(asio::posix::stream_descriptor::wait_read, std::move(handler));
}

namespace {

ssize_t read_retrying(int fd, const iovec* iov, int count) {
  for (;;) {
    ssize_t n = ::readv(fd, iov, count);
    if (n >= 0 || errno != EINTR) return n;
  }
}

std::error_code last_error() {
  return {errno == EAGAIN ? EWOULDBLOCK : errno, std::generic_category()};
}

}  // namespace

std::size_t TunDevice::read_packet(util::ByteSpan buffer, std::error_code& ec) {
  ec.clear();
  if (!segmenter_.done()) {
    ++offload_stats_.segments_made;
    return segmenter_.next(buffer);
  }
  if (!offload_) {
    iovec iov{buffer.data(), buffer.size()};
    ssize_t n = read_retrying(fd_.native_handle(), &iov, 1);
    if (n < 0) return ec = last_error(), 0;
    return static_cast<std::size_t>(n);
  }
  return read_super_packet(buffer, ec);
}

// Offload path: a packet up to the MTU lands in the caller's buffer, anything longer runs
// on into super_packet_ behind the same offset (its vnet header read beside it). An
// ordinary packet is completed in the caller's buffer (its checksum finished if the kernel
// left it to us); a GSO one needs only its head copied to super_packet_ to be whole there,
// and is handed out one segment per call — one copy of the bulk, not two.
std::size_t TunDevice::read_super_packet(util::ByteSpan buffer, std::error_code& ec) {
  std::size_t head = std::min<std::size_t>(buffer.size(), std::max<std::size_t>(mtu_, kMinHead));
  for (;;) {
    std::byte header_bytes[offload::kVnetHeaderSize];
    iovec iov[3] = {{header_bytes, sizeof header_bytes},
                    {buffer.data(), head},
                    {super_packet_.data() + head, super_packet_.size() - head}};
    ssize_t n = read_retrying(fd_.native_handle(), iov, 3);
    if (n < 0) return ec = last_error(), 0;
    if (static_cast<std::size_t>(n) < sizeof header_bytes) continue;  // cannot happen; skip
    std::size_t size = static_cast<std::size_t>(n) - sizeof header_bytes;
    auto header = offload::parse_vnet_header(header_bytes);
    std::string why = "unknown gso type";
    if (header && header->gso_type == offload::GsoType::none) {
      if (size > buffer.size()) {
        why = "a packet larger than the read buffer";
      } else {
        if (size > head)  // above the MTU (it changed since): the tail comes back in place
          std::copy_n(super_packet_.data() + head, size - head, buffer.data() + head);
        if (offload::finish_checksum(*header, buffer.first(size))) return size;
        why = "checksum offsets outside the packet";
      }
    } else if (header) {
      std::copy_n(buffer.data(), std::min(size, head), super_packet_.data());
      if (segmenter_.load(*header, {super_packet_.data(), size}, why)) {
        ++offload_stats_.super_packets_read;
        ++offload_stats_.segments_made;
        return segmenter_.next(buffer);
      }
    }
    // The kernel gave us something we cannot split: lose it (TCP resends) and say so.
    ++offload_stats_.bad_super_packets;
    last_bad_read_ = why;
  }
}

void TunDevice::write_packet(util::ConstByteSpan packet, std::error_code& ec) {
  if (!offload_) {
    iovec iov{const_cast<std::byte*>(packet.data()), packet.size()};
    ec = write_iov(&iov, 1);
    return;
  }
  write_error_.clear();
  coalescer_.push(packet, write_one_);
  ec = std::exchange(write_error_, {});
}

// The engine ends each batch of writes (one socket read's worth of frames) here, so the
// merged packets go to the kernel then: no posted flush, no error kept for a later call.
std::error_code TunDevice::flush_writes() {
  if (!offload_ || !coalescer_.pending() || !fd_.is_open()) return {};
  write_error_.clear();
  coalescer_.flush(write_one_);
  return std::exchange(write_error_, {});
}

void TunDevice::write_one(const offload::VnetHeader& header, util::ConstByteSpan packet) {
  std::byte header_bytes[offload::kVnetHeaderSize];
  offload::write_vnet_header(header, header_bytes);
  iovec iov[2] = {{header_bytes, sizeof header_bytes},
                  {const_cast<std::byte*>(packet.data()), packet.size()}};
  auto ec = write_iov(iov, 2);
  if (ec && !write_error_) write_error_ = ec;
}

std::error_code TunDevice::write_iov(const iovec* iov, int count) {
  for (;;) {
    if (::writev(fd_.native_handle(), iov, count) >= 0) return {};
    if (errno != EINTR) return {errno, std::generic_category()};
  }
}

OffloadStats TunDevice::offload_stats() const {
  OffloadStats s = offload_stats_;
  s.super_packets_written = coalescer_.stats().super_packets;
  s.segments_merged = coalescer_.stats().merged_segments;
  return s;
}

void TunDevice::close() {
  std::error_code ignored;
  if (watcher_) watcher_->stop();  // our own close deletes a created device: not news
  pause_timer_.cancel();
  if (fd_.is_open()) fd_.close(ignored);
}

void TunDevice::async_pause(std::chrono::milliseconds delay, std::function<void()> handler) {
  pause_timer_.expires_after(delay);
  pause_timer_.async_wait([handler = std::move(handler)](std::error_code ec) {
    if (!ec) handler();
  });
}

bool TunDevice::exists() const {
  return !gone_ && interface_exists(ifindex_);
}

// ---- changes made from outside, as netlink reports them --------------------------------

void TunDevice::on_link_event(const LinkEvent& event) {
  if (gone_) return;
  switch (event.kind) {
    case LinkEvent::Kind::link_changed:
      return on_link_changed(event);
    case LinkEvent::Kind::link_deleted:
      return report_gone("device " + name_ + " was deleted");
    case LinkEvent::Kind::address_added:
    case LinkEvent::Kind::address_removed:
      return on_address_event(event);
    case LinkEvent::Kind::overrun:
      return resynchronise();
  }
}

void TunDevice::on_link_changed(const LinkEvent& event) {
  if (event.name && *event.name != name_) {
    std::string old = std::exchange(name_, *event.name);
    if (observer_) observer_->on_renamed(old, name_);
  }
  if (event.mtu && *event.mtu != mtu_) {
    unsigned old = std::exchange(mtu_, *event.mtu);
    if (observer_) observer_->on_mtu_changed(old, mtu_);
  }
}

void TunDevice::on_address_event(const LinkEvent& event) {
  auto at = std::find(addresses_.begin(), addresses_.end(), event.address);
  bool added = event.kind == LinkEvent::Kind::address_added;
  bool known = at != addresses_.end();
  if (!added && !known) return;  // already gone
  // A known address announced again may carry a new broadcast (`ip addr change ... brd`).
  if (added && known && at->broadcast == event.address.broadcast) return;
  if (added && known)
    *at = event.address;
  else if (added)
    addresses_.push_back(event.address);
  else
    addresses_.erase(at);
  if (observer_) observer_->on_addresses_changed(addresses_);
}

// The kernel dropped notifications (ENOBUFS): read name, MTU and addresses afresh.
void TunDevice::resynchronise() {
  auto current = interface_name(ifindex_);
  if (!current) return report_gone("device " + name_ + " no longer exists");
  LinkEvent event;
  event.name = *current;
  try {
    event.mtu = get_mtu(*current);
    auto addresses = read_ipv4_addresses(*current);
    on_link_changed(event);
    if (addresses != addresses_) {
      addresses_ = std::move(addresses);
      if (observer_) observer_->on_addresses_changed(addresses_);
    }
  } catch (const DeviceError& e) {
    if (observer_) observer_->on_notice(e.what());
  }
}

void TunDevice::report_gone(const std::string& why) {
  gone_ = true;
  if (watcher_) watcher_->stop();
  if (observer_) observer_->on_gone(why);
}

}  // namespace tund::device
