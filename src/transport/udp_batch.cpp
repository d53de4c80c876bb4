#include "tund/transport/udp_batch.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "socket_flags.hpp"
#include "tund/proto/timers.hpp"

namespace tund::transport {
namespace {

constexpr std::size_t kMaxQueued = 128;          // datagrams per batch
constexpr std::size_t kBatchBytes = 192 * 1024;  // bytes per batch before send()
// Linux caps a GSO send at 64 segments and at what fits one 64 KB IP packet.
constexpr std::size_t kMaxSegments = 64;
constexpr std::size_t kMaxGsoBytes = 65000;
constexpr std::size_t kRxBuffers = 16;
constexpr std::size_t kRxBufferSize = 65536;

std::error_code errno_code() {
  return {errno == EAGAIN ? EWOULDBLOCK : errno, std::generic_category()};
}

bool is_shape_error(int err) {
  return err == EMSGSIZE || err == EINVAL || err == EIO;
}

}  // namespace

SendFault classify_send_error(const std::error_code& ec) {
  if (!ec) return SendFault::none;
  // errno values, whether from a syscall here (generic) or from Asio (its own category).
  const auto& category = ec.category();
  bool errno_value = category == std::generic_category() || category == std::system_category() ||
                     std::string_view(category.name()) == "asio.system";
  if (!errno_value) return SendFault::other;
  switch (ec.value()) {
    case EAGAIN:
      return SendFault::would_block;
    case ENOBUFS:
    case ENOMEM:
      return SendFault::transient;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EADDRNOTAVAIL:
    case EDESTADDRREQ:
    case ENOTCONN:
    case EINVAL:  // only returned for a plain datagram: see DatagramBatch::send
      return SendFault::no_route;
    case ECONNREFUSED:
      return SendFault::refused;
    default:
      return SendFault::other;
  }
}

DatagramBatch::DatagramBatch(std::size_t max_datagram, bool gso)
    : buffer_(kBatchBytes + max_datagram), max_datagram_(max_datagram), gso_(gso) {
  sizes_.reserve(kMaxQueued);
  offsets_.reserve(kMaxQueued);
}

void DatagramBatch::commit(std::size_t size) {
  offsets_.push_back(end_);
  sizes_.push_back(size);
  end_ += size;
}

bool DatagramBatch::full() const {
  return sizes_.size() >= kMaxQueued || end_ + max_datagram_ > buffer_.size() ||
         end_ >= kBatchBytes;
}

void DatagramBatch::clear() {
  sizes_.clear();
  offsets_.clear();
  end_ = next_ = 0;
}

// A run: consecutive datagrams of one size (the last may be shorter) that fit one GSO
// send; 1 without GSO or for a segment size GSO was refused for.
std::size_t DatagramBatch::run_length(std::size_t first) const {
  std::size_t seg = sizes_[first], total = 0, n = 0;
  if (!gso_ || seg > gso_limit_) return 1;
  for (std::size_t i = first; i < sizes_.size() && n < kMaxSegments; ++i) {
    if (sizes_[i] > seg || total + sizes_[i] > kMaxGsoBytes) break;
    total += sizes_[i];
    ++n;
    if (sizes_[i] < seg) break;  // a shorter one can only be last
  }
  // A datagram too big for any GSO run still goes, on its own: a run of 0 never advanced
  // the batch and overran the message array.
  return std::max<std::size_t>(n, 1);
}

std::error_code DatagramBatch::send(int fd, const sockaddr* to, socklen_t to_size) {
  constexpr std::size_t kMaxMsgs = kMaxQueued;
  mmsghdr msgs[kMaxMsgs];
  iovec iovs[kMaxMsgs];
  alignas(cmsghdr) char controls[kMaxMsgs][CMSG_SPACE(sizeof(std::uint16_t))];
  if (gso_limit_ != SIZE_MAX &&
      std::chrono::steady_clock::now() - gso_limited_at_ > proto::kGsoReprobe)
    gso_limit_ = SIZE_MAX;
  while (!empty()) {
    // One mmsghdr per run (GSO) or per datagram, then one sendmmsg for all of them.
    std::size_t count = 0, counts[kMaxMsgs];
    for (std::size_t i = next_; i < sizes_.size(); ++count) {
      std::size_t n = run_length(i);
      std::size_t bytes = 0;
      for (std::size_t k = i; k < i + n; ++k) bytes += sizes_[k];
      mmsghdr& m = msgs[count];
      m = {};
      iovs[count] = {buffer_.data() + offsets_[i], bytes};
      m.msg_hdr.msg_iov = &iovs[count];
      m.msg_hdr.msg_iovlen = 1;
      m.msg_hdr.msg_name = const_cast<sockaddr*>(to);
      m.msg_hdr.msg_namelen = to ? to_size : 0;
      if (n > 1) {
        m.msg_hdr.msg_control = controls[count];
        m.msg_hdr.msg_controllen = sizeof controls[count];
        cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
        auto seg = static_cast<std::uint16_t>(sizes_[i]);
        std::memcpy(CMSG_DATA(c), &seg, sizeof seg);
      }
      counts[count] = n;
      i += n;
    }
    ++syscalls_;
    int sent = ::sendmmsg(fd, msgs, static_cast<unsigned>(count), MSG_DONTWAIT);
    if (sent >= 0) {
      refused_retried_ = false;
      for (int k = 0; k < sent; ++k) next_ += counts[k];
      continue;
    }
    int err = errno;
    if (handle_failure(err, counts[0])) continue;
    std::error_code ec(err, std::generic_category());
    if (ec != std::errc::operation_would_block) {  // drop the failed datagram(s)
      dropped_ += counts[0];
      next_ += counts[0];
    }
    if (empty()) clear();
    return ec;
  }
  clear();
  return {};
}

// The first message of the last sendmmsg failed with `err` (sendmmsg reports an error
// only when nothing was sent). Returns true when the batch can simply go on.
bool DatagramBatch::handle_failure(int err, std::size_t first_count) {
  if (err == EINTR) return true;
  if (is_shape_error(err) && first_count > 1) {  // retried below without GSO
    limit_gso(sizes_[next_], err);
    return true;
  }
  if (err == EMSGSIZE) {  // one datagram larger than any UDP send can be
    ++dropped_;
    ++oversize_;
    ++next_;
    return true;
  }
  if (err == ECONNREFUSED && !refused_retried_) {
    // The error belonged to an earlier datagram (an ICMP port unreachable reported late)
    // and is now cleared; this one was not sent yet.
    refused_retried_ = true;
    return true;
  }
  return false;
}

void DatagramBatch::limit_gso(std::size_t segment, int err) {
  gso_limit_ = segment - 1;
  gso_limited_at_ = std::chrono::steady_clock::now();
  if (gso_limit_ >= gso_limit_logged_) return;  // known already (a re-probe found the same)
  gso_limit_logged_ = gso_limit_;
  notice_ = "UDP GSO refused for " + std::to_string(segment) + "-byte datagrams (" + strerror(err) +
            "; the path MTU is likely smaller): sending those one by one";
}

DatagramReceiver::DatagramReceiver(int fd, bool gro)
    : fd_(fd), buffers_(kRxBuffers * kRxBufferSize) {
  int on = 1;
  gro_ = gro && ::setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
}

std::error_code DatagramReceiver::receive(const Handler& handler) {
  mmsghdr msgs[kRxBuffers];
  iovec iovs[kRxBuffers];
  sockaddr_storage names[kRxBuffers];
  alignas(cmsghdr) char controls[kRxBuffers][CMSG_SPACE(sizeof(int))];
  for (std::size_t i = 0; i < kRxBuffers; ++i) {
    iovs[i] = {buffers_.data() + i * kRxBufferSize, kRxBufferSize};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &names[i];
    msgs[i].msg_hdr.msg_namelen = sizeof names[i];
    msgs[i].msg_hdr.msg_control = controls[i];
    msgs[i].msg_hdr.msg_controllen = sizeof controls[i];
  }
  int n;
  do {
    n = ::recvmmsg(fd_, msgs, kRxBuffers, MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno_code();
  for (int i = 0; i < n; ++i) {
    msghdr& h = msgs[i].msg_hdr;
    std::size_t size = msgs[i].msg_len, segment = size;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c))
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int gso_size;
        std::memcpy(&gso_size, CMSG_DATA(c), sizeof gso_size);
        if (gso_size > 0) segment = static_cast<std::size_t>(gso_size);
      }
    bool truncated = (h.msg_flags & MSG_TRUNC) != 0;
    std::byte* data = static_cast<std::byte*>(iovs[i].iov_base);
    for (std::size_t off = 0; off < size || size == 0; off += segment) {
      std::size_t len = std::min(segment, size - off);
      handler({data + off, len}, static_cast<sockaddr*>(h.msg_name), h.msg_namelen, truncated);
      if (size == 0) break;
    }
  }
  return {};
}

}  // namespace tund::transport
