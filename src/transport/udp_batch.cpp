#include "tund/transport/udp_batch.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "socket_flags.hpp"
#include "tund/proto/timers.hpp"
#include "tund/transport/pktinfo.hpp"

namespace tund::transport {
namespace {

constexpr std::size_t kMaxQueued = 128;          // datagrams per batch
constexpr std::size_t kBatchBytes = 192 * 1024;  // bytes per batch before send()
// Linux caps a GSO send at 64 segments and at what fits one 64 KB IP packet.
constexpr std::size_t kMaxSegments = 64;
constexpr std::size_t kMaxGsoBytes = 65000;
constexpr std::size_t kRxBuffers = 16;
constexpr std::size_t kRxBufferSize = 65536;
// Source addresses remembered as gone at most (the oldest is dropped beyond).
constexpr std::size_t kMaxGoneSources = 16;

std::error_code errno_code() {
  return {errno == EAGAIN ? EWOULDBLOCK : errno, std::generic_category()};
}

bool is_shape_error(int err) {
  return err == EMSGSIZE || err == EINVAL || err == EIO;
}

// The control message that makes one sendmmsg entry a GSO send of `segment`-byte datagrams.
constexpr std::size_t kSegmentControlSize = CMSG_SPACE(sizeof(std::uint16_t));
// Room for both control messages an entry may carry: its source, its segment size.
constexpr std::size_t kControlSize = kPktinfoSpace + kSegmentControlSize;

std::size_t write_segment_size(cmsghdr* c, std::size_t segment) {
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
  auto size = static_cast<std::uint16_t>(segment);
  std::memcpy(CMSG_DATA(c), &size, sizeof size);
  return kSegmentControlSize;
}

// An entry's control messages: the source it leaves from (unspecified: none) and, for a GSO
// run (`segment` not 0), its segment size (UDP_SEGMENT, udp(7)). Each CMSG_SPACE keeps the
// next one aligned, so they are laid out one after the other.
void attach_controls(msghdr& h, char (&control)[kControlSize], const asio::ip::address& source,
                     std::size_t segment) {
  std::size_t used = write_pktinfo(reinterpret_cast<cmsghdr*>(control), source);
  if (segment != 0) used += write_segment_size(reinterpret_cast<cmsghdr*>(control + used), segment);
  if (used == 0) return;
  h.msg_control = control;
  h.msg_controllen = used;
}

// What a received message's control messages say: the GRO segment size (UDP_GRO) and the
// local address it was sent to (pktinfo.hpp); each left alone when absent.
void read_controls(msghdr& h, std::size_t& segment, asio::ip::address& local) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int gso_size;
      std::memcpy(&gso_size, CMSG_DATA(c), sizeof gso_size);
      if (gso_size > 0) segment = static_cast<std::size_t>(gso_size);
    } else {
      read_pktinfo(*c, local);
    }
  }
}

// What a send from a source address the host no longer has fails with: IPv4 (ip(7)), the
// route lookup refuses a source that is not local (ENETUNREACH); IPv6 (ipv6(7)), the
// IPV6_PKTINFO check (EINVAL); EADDRNOTAVAIL from either in older kernels. Each has other
// causes too, so a send that fails so is tried without its source before that is
// forgotten.
bool is_source_error(int err) {
  return err == EINVAL || err == EADDRNOTAVAIL || err == ENETUNREACH;
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

DatagramBatch::DatagramBatch(std::size_t max_datagram, bool gso, const util::Clock& clock,
                             SendMmsg send_mmsg)
    : buffer_(kBatchBytes + max_datagram),
      max_datagram_(max_datagram),
      gso_(gso),
      clock_(&clock),
      send_mmsg_(send_mmsg ? std::move(send_mmsg) : SendMmsg(::sendmmsg)) {
  // Reserved once: queuing never allocates (at most one new destination per datagram).
  sizes_.reserve(kMaxQueued);
  offsets_.reserve(kMaxQueued);
  destination_.reserve(kMaxQueued);
  destinations_.reserve(kMaxQueued + 1);
  destinations_.resize(1);
  order_.reserve(kMaxQueued);
  scratch_.reserve(kMaxQueued);
  counts_.reserve(kMaxQueued + 2);
  gone_sources_.reserve(kMaxGoneSources);
}

void DatagramBatch::commit(std::size_t size) {
  commit_to(size, 0);
}

void DatagramBatch::commit(std::size_t size, const sockaddr* to, socklen_t to_size,
                           const asio::ip::address& source) {
  commit_to(size, destination_of(to, to_size, source));
}

void DatagramBatch::commit_to(std::size_t size, std::uint16_t destination) {
  mixed_ |= !sizes_.empty() && destination != last_destination_;
  last_destination_ = destination;
  offsets_.push_back(end_);
  sizes_.push_back(size);
  destination_.push_back(destination);
  end_ += size;
}

// The index of `to` in destinations_, added if new. The previous datagram's destination
// is tried first: a single peer's burst costs one comparison per datagram.
std::uint16_t DatagramBatch::destination_of(const sockaddr* to, socklen_t to_size,
                                            const asio::ip::address& source) {
  auto same = [&](const Destination& d) {
    return d.size == to_size && std::memcmp(&d.address, to, to_size) == 0 && d.source == source;
  };
  if (last_destination_ != 0 && same(destinations_[last_destination_])) return last_destination_;
  for (std::size_t i = 1; i < destinations_.size(); ++i)
    if (same(destinations_[i])) return static_cast<std::uint16_t>(i);
  Destination d{};
  to_size = std::min<socklen_t>(to_size, sizeof d.address);
  std::memcpy(&d.address, to, to_size);
  d.size = to_size;
  d.source = source;
  destinations_.push_back(d);
  return static_cast<std::uint16_t>(destinations_.size() - 1);
}

bool DatagramBatch::full() const {
  return sizes_.size() >= kMaxQueued || end_ + max_datagram_ > buffer_.size() ||
         end_ >= kBatchBytes;
}

void DatagramBatch::clear() {
  sizes_.clear();
  offsets_.clear();
  destination_.clear();
  destinations_.resize(1);
  order_.clear();
  last_destination_ = 0;
  mixed_ = false;
  end_ = next_ = ordered_ = sent_ = 0;
}

const sockaddr* DatagramBatch::failed_to(socklen_t& size) const {
  size = failed_.size;
  return size == 0 ? nullptr : reinterpret_cast<const sockaddr*>(&failed_.address);
}

// The send order: what is still unsent from the last send() (an EAGAIN), then what was
// committed since; with several destinations, grouped per destination by a stable
// counting sort (no allocation), so each one's datagrams keep their order and its runs of
// equal sizes become GSO sends.
void DatagramBatch::arrange() {
  scratch_.assign(order_.begin() + static_cast<std::ptrdiff_t>(next_), order_.end());
  for (std::size_t i = ordered_; i < sizes_.size(); ++i) scratch_.push_back(i);
  ordered_ = sizes_.size();
  next_ = 0;
  if (!mixed_) {
    order_.swap(scratch_);
    return;
  }
  counts_.assign(destinations_.size() + 1, 0);
  for (std::size_t i : scratch_) ++counts_[destination_[i] + 1u];
  for (std::size_t d = 1; d < counts_.size(); ++d) counts_[d] += counts_[d - 1];
  order_.resize(scratch_.size());
  for (std::size_t i : scratch_) order_[counts_[destination_[i]]++] = i;
}

void DatagramBatch::consume(std::size_t n) {
  next_ += n;
  sent_ += n;
}

// A run: consecutive datagrams (in send order) of one destination and one size (the last
// may be shorter) that fit one GSO send; 1 without GSO or for a segment size GSO was
// refused for.
std::size_t DatagramBatch::run_length(std::size_t first) const {
  std::size_t seg = sizes_[order_[first]], total = 0, n = 0;
  std::uint16_t to = destination_[order_[first]];
  if (!gso_ || seg > gso_limit_) return 1;
  for (std::size_t k = first; k < order_.size() && n < kMaxSegments; ++k) {
    std::size_t size = sizes_[order_[k]];
    if (destination_[order_[k]] != to || size > seg || total + size > kMaxGsoBytes) break;
    total += size;
    ++n;
    if (size < seg) break;  // a shorter one can only be last
  }
  // A datagram too big for any GSO run still goes, on its own: a run of 0 never advanced
  // the batch and overran the message array.
  return std::max<std::size_t>(n, 1);
}

// One entry per run (GSO) or per datagram, an iovec per contiguous piece of the buffer
// (one for a single destination's run; grouping may gather pieces); left uninitialised:
// only the entries build_messages() fills are read, and this lives on the stack of every
// send().
struct DatagramBatch::Messages {
  mmsghdr headers[kMaxQueued];
  iovec iovs[kMaxQueued];
  alignas(cmsghdr) char controls[kMaxQueued][kControlSize];
  std::size_t counts[kMaxQueued];  // datagrams in each entry
  std::size_t iovs_used = 0;
};

std::error_code DatagramBatch::send(int fd, const sockaddr* to, socklen_t to_size) {
  reprobe_gso_if_due();
  arrange();
  Messages messages;
  while (!empty()) {
    std::size_t count = build_messages(messages, to, to_size);
    ++syscalls_;
    int sent = send_mmsg_(fd, messages.headers, static_cast<unsigned>(count), MSG_DONTWAIT);
    if (sent >= 0) {
      advance(messages, sent);
      continue;
    }
    int err = errno;
    if (!handle_failure(err, messages.counts[0])) return give_up(err, messages.counts[0]);
  }
  clear();
  return {};
}

// A segment size GSO was refused for is tried again some time later (the path MTU may
// have grown back).
void DatagramBatch::reprobe_gso_if_due() {
  if (gso_limit_ != SIZE_MAX && clock_->now() - gso_limited_at_ > proto::kGsoReprobe)
    gso_limit_ = SIZE_MAX;
}

// Fills one entry per run from the first unsent datagram on; returns how many.
std::size_t DatagramBatch::build_messages(Messages& m, const sockaddr* to, socklen_t to_size) {
  std::size_t count = 0;
  m.iovs_used = 0;
  for (std::size_t k = next_; k < order_.size() && count < kMaxQueued; ++count) {
    std::size_t n = run_length(k);
    build_message(m, count, k, n, to, to_size);
    k += n;
  }
  return count;
}

// Entry `index`: the `count` datagrams from send position `first` on, to their
// destination (or `to`); more than one carry their segment size (UDP_SEGMENT, udp(7)).
void DatagramBatch::build_message(Messages& m, std::size_t index, std::size_t first,
                                  std::size_t count, const sockaddr* to, socklen_t to_size) {
  iovec* iov = m.iovs + m.iovs_used;
  std::size_t pieces = 0;
  for (std::size_t k = first; k < first + count; ++k) {
    std::byte* data = buffer_.data() + offsets_[order_[k]];
    std::size_t size = sizes_[order_[k]];
    if (pieces > 0 &&
        static_cast<std::byte*>(iov[pieces - 1].iov_base) + iov[pieces - 1].iov_len == data)
      iov[pieces - 1].iov_len += size;  // contiguous: one piece (always, for one destination)
    else
      iov[pieces++] = {data, size};
  }
  m.iovs_used += pieces;
  msghdr& h = m.headers[index].msg_hdr;
  m.headers[index] = {};
  h.msg_iov = iov;
  h.msg_iovlen = pieces;
  asio::ip::address source;
  if (std::uint16_t d = destination_[order_[first]]; d != 0) {
    h.msg_name = &destinations_[d].address;
    h.msg_namelen = destinations_[d].size;
    if (source_usable(destinations_[d].source)) source = destinations_[d].source;
  } else {
    h.msg_name = const_cast<sockaddr*>(to);
    h.msg_namelen = to ? to_size : 0;
  }
  attach_controls(h, m.controls[index], source, count > 1 ? sizes_[order_[first]] : 0);
  m.counts[index] = count;
}

// The first `sent` entries went out.
void DatagramBatch::advance(const Messages& m, int sent) {
  refused_retried_ = false;
  // The entry that failed from its source went without it: the source is what was wrong.
  if (sent > 0 && !suspect_.is_unspecified()) note_forgotten(std::exchange(suspect_, {}));
  for (std::size_t k = 0; k < static_cast<std::size_t>(sent); ++k) consume(m.counts[k]);
}

// The first message of the last sendmmsg failed with `err` (sendmmsg reports an error
// only when nothing was sent). Returns true when the batch can simply go on.
bool DatagramBatch::handle_failure(int err, std::size_t first_count) {
  if (err == EINTR) return true;
  // Failed again without its source: the source was not the problem; it is used again.
  bool suspected = !suspect_.is_unspecified();
  if (suspected) remember_source(std::exchange(suspect_, {}));
  if (is_shape_error(err) && first_count > 1) {  // retried below without GSO
    limit_gso(sizes_[order_[next_]], err);
    return true;
  }
  // After the GSO check: an EINVAL for a run's shape must not cost a good source (one that
  // is gone fails again sent alone, and is suspected then).
  if (!suspected && is_source_error(err) && retry_without_source()) return true;
  if (err == EMSGSIZE) {  // one datagram larger than any UDP send can be
    ++dropped_;
    ++oversize_;
    consume(1);
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

// A failure handle_failure() could not absorb: EAGAIN keeps the datagrams queued for the
// next send(); anything else drops those of the failed entry and leaves the rest queued.
std::error_code DatagramBatch::give_up(int err, std::size_t first_count) {
  std::error_code ec(err, std::generic_category());
  std::uint16_t d = destination_[order_[next_]];
  failed_ = d == 0 ? Destination{} : destinations_[d];
  if (ec != std::errc::operation_would_block) {
    dropped_ += first_count;
    consume(first_count);
  }
  if (empty()) clear();
  return ec;
}

void DatagramBatch::limit_gso(std::size_t segment, int err) {
  gso_limit_ = segment - 1;
  gso_limited_at_ = clock_->now();
  if (gso_limit_ >= gso_limit_logged_) return;  // known already (a re-probe found the same)
  gso_limit_logged_ = gso_limit_;
  notice_ = "UDP GSO refused for " + std::to_string(segment) + "-byte datagrams (" + strerror(err) +
            "; the path MTU is likely smaller): sending those one by one";
}

// The first entry of the last sendmmsg failed as a send from a source the host no longer
// has would (is_source_error): if it carried a source, that is suspected (not used) and
// the entry goes again from the kernel's choice; forgotten for good (said once) when that
// works (advance), used again when it fails too (handle_failure). Otherwise the error is
// the entry's own.
bool DatagramBatch::retry_without_source() {
  std::uint16_t d = destination_[order_[next_]];
  if (d == 0) return false;
  const asio::ip::address& source = destinations_[d].source;
  if (source.is_unspecified() || !source_usable(source)) return false;
  add_gone(source);
  suspect_ = source;
  return true;
}

bool DatagramBatch::source_usable(const asio::ip::address& source) const {
  return gone_sources_.empty() ||
         std::find(gone_sources_.begin(), gone_sources_.end(), source) == gone_sources_.end();
}

bool DatagramBatch::forget_source(const asio::ip::address& source) {
  if (!source_usable(source)) return false;
  add_gone(source);
  note_forgotten(source);
  return true;
}

void DatagramBatch::add_gone(const asio::ip::address& source) {
  if (gone_sources_.size() >= kMaxGoneSources) gone_sources_.erase(gone_sources_.begin());
  gone_sources_.push_back(source);
}

void DatagramBatch::note_forgotten(const asio::ip::address& source) {
  ++sources_forgotten_;
  if (!notice_.empty()) notice_ += "; ";
  notice_ += "cannot send from " + source.to_string() +
             " (no longer an address of this host?): sending from the kernel's choice instead";
}

void DatagramBatch::remember_source(const asio::ip::address& source) {
  auto it = std::find(gone_sources_.begin(), gone_sources_.end(), source);
  if (it != gone_sources_.end()) gone_sources_.erase(it);
}

DatagramReceiver::DatagramReceiver(int fd, bool gro, bool pktinfo)
    : fd_(fd), buffers_(kRxBuffers * kRxBufferSize) {
  int on = 1;
  gro_ = gro && ::setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
  if (pktinfo) {
    // The socket's family decides whether IPV6_RECVPKTINFO applies.
    sockaddr_storage bound{};
    socklen_t size = sizeof bound;
    bool v6 = ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &size) == 0 &&
              bound.ss_family == AF_INET6;
    pktinfo_ = enable_pktinfo(fd, v6);
  }
}

std::error_code DatagramReceiver::receive(const Handler& handler) {
  mmsghdr msgs[kRxBuffers];
  iovec iovs[kRxBuffers];
  sockaddr_storage names[kRxBuffers];
  // UDP_GRO's size, and both forms of pktinfo (a dual-stack socket's IPv4 datagrams carry
  // IP_PKTINFO and a v4-mapped IPV6_PKTINFO).
  alignas(cmsghdr) char controls[kRxBuffers][CMSG_SPACE(sizeof(int)) +
                                             CMSG_SPACE(sizeof(in_pktinfo)) + kPktinfoSpace];
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
    asio::ip::address local;
    read_controls(h, segment, local);
    bool truncated = (h.msg_flags & MSG_TRUNC) != 0;
    std::byte* data = static_cast<std::byte*>(iovs[i].iov_base);
    for (std::size_t off = 0; off < size || size == 0; off += segment) {
      std::size_t len = std::min(segment, size - off);
      handler({data + off, len}, static_cast<sockaddr*>(h.msg_name), h.msg_namelen, truncated,
              local);
      if (size == 0) break;
    }
  }
  return {};
}

}  // namespace tund::transport
