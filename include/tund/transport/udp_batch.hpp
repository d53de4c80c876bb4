// Batched UDP syscalls, so a burst of frames costs a few syscalls instead of one each:
//   DatagramBatch    collects datagrams in one buffer, each with its destination (a hub's
//                    batch interleaves its peers); send() hands them to the kernel in one
//                    sendmmsg per batch, whatever the mix: each entry has its own address
//                    (msg_name). Datagrams are grouped per destination (their order per
//                    destination kept; order between destinations does not matter), so runs
//                    of equal-size datagrams to one destination go as one UDP GSO send
//                    (UDP_SEGMENT), several runs per sendmmsg. Without GSO every datagram
//                    is its own sendmmsg entry.
//                    A GSO send the kernel refuses for its shape (a segment larger than the
//                    path MTU: EMSGSIZE/EINVAL/EIO) is sent again datagram by datagram (the
//                    kernel fragments those, as with --no-offload); GSO stays off for that
//                    segment size and larger until a re-probe some time later.
//                    A datagram may carry the source address it must leave from
//                    (pktinfo.hpp: a wildcard-bound server answers from the address the
//                    client sent to); one the host no longer has fails the send (IPv4:
//                    ENETUNREACH, IPv6: EINVAL): the datagrams go again from the kernel's
//                    choice and, if that works, the source is forgotten (logged once).
//   DatagramReceiver recvmmsg into a ring of 64 KB buffers, with UDP_GRO on: the kernel
//                    may deliver many same-size datagrams of one sender as one buffer,
//                    which is split back at the size it reports. With pktinfo on, each
//                    datagram comes with the local address it was sent to.
// Both fall back by themselves when the kernel refuses a feature (and say so, once).
#pragma once

#include <sys/socket.h>

#include <asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "tund/util/bytes.hpp"
#include "tund/util/clock.hpp"

namespace tund::transport {

// What a failed send means, and so what to do about it:
//   would_block  the socket buffer is full: keep the datagrams, wait until writable
//   transient    ENOBUFS/ENOMEM: the host is short of memory; drop the batch (counted)
//   no_route     ENETUNREACH, EHOSTUNREACH, ENETDOWN, EADDRNOTAVAIL, EDESTADDRREQ, ENOTCONN,
//                and EINVAL for a plain datagram (a connected socket whose source address
//                vanished): the path is gone; a client re-connects when a route returns
//   refused      ECONNREFUSED: an ICMP port unreachable reported late (nobody listens)
//   other        anything else
enum class SendFault { none, would_block, transient, no_route, refused, other };
SendFault classify_send_error(const std::error_code& ec);

class DatagramBatch {
 public:
  // sendmmsg(2) as send() calls it (the default): tests put a wrapper in its place to watch
  // the calls or to return an error (-1 with errno set) the loopback cannot provoke.
  using SendMmsg = std::function<int(int fd, mmsghdr* messages, unsigned count, int flags)>;

  // `max_datagram`: the largest datagram one slot must hold; `gso`: try UDP GSO. `clock`
  // times the re-probe of a GSO size refused before (proto::kGsoReprobe); it must outlive
  // the batch.
  DatagramBatch(std::size_t max_datagram, bool gso, const util::Clock& clock = util::steady_clock(),
                SendMmsg send_mmsg = {});

  std::byte* slot() { return buffer_.data() + end_; }
  // Queues the `size` bytes written at slot(), for the address send() is given.
  void commit(std::size_t size);
  // The same for `to` (to_size bytes, at most a sockaddr_storage), which send() uses in
  // place of its own: a server's batch holds datagrams for several destinations. A
  // `source` (not unspecified) is the local address the datagram leaves from (IP_PKTINFO
  // / IPV6_PKTINFO); datagrams to one `to` from two sources are two destinations.
  void commit(std::size_t size, const sockaddr* to, socklen_t to_size,
              const asio::ip::address& source = {});
  bool full() const;
  bool empty() const { return sent_ == sizes_.size(); }
  std::size_t queued() const { return sizes_.size() - sent_; }
  // The destination of the entry whose error send() returned last (nullptr: the `to` given
  // to send()), for the log line.
  const sockaddr* failed_to(socklen_t& size) const;

  // Sends what is queued, to `to` (nullptr on a connected socket) unless committed with a
  // destination of its own. Stops at EAGAIN (the rest
  // stays queued: call again when writable) and returns would_block. Handles by itself a
  // GSO send refused for its shape (sent again one by one), a datagram too large for any
  // send (dropped, counted in oversize()), and one ECONNREFUSED (a stale ICMP error:
  // retried once). Any other error drops the datagrams of the failed call, returns the
  // error (see classify_send_error) and leaves the rest queued.
  std::error_code send(int fd, const sockaddr* to, socklen_t to_size);
  void clear();
  bool gso() const { return gso_; }
  // Set when GSO was refused for a segment size smaller than any before, or a source
  // address was forgotten (log it).
  std::string take_notice() { return std::exchange(notice_, {}); }

  // ---- source addresses the host no longer has ---------------------------------------
  // Whether `source` is still used for sends (false once a send from it failed).
  bool source_usable(const asio::ip::address& source) const;
  // A send from `source` failed (ENETUNREACH for IPv4, EINVAL for IPv6, EADDRNOTAVAIL)
  // and one without it worked: sends leave from the kernel's choice of source instead,
  // until a datagram arrives at `source` again (source_seen). Returns false when it was
  // forgotten already. Counted (sources_forgotten), and sets the notice.
  bool forget_source(const asio::ip::address& source);
  // A datagram arrived at local address `source`: it is on the host (again).
  void source_seen(const asio::ip::address& source) {
    if (!gone_sources_.empty()) remember_source(source);
  }
  std::uint64_t sources_forgotten() const { return sources_forgotten_; }
  std::uint64_t syscalls() const { return syscalls_; }
  std::uint64_t dropped() const { return dropped_; }    // datagrams lost to send errors
  std::uint64_t oversize() const { return oversize_; }  // of which too large to send at all
  // The largest segment size GSO is used for now (SIZE_MAX: no limit learned).
  std::size_t gso_limit() const { return gso_limit_; }

 private:
  struct Messages;  // the arrays of one sendmmsg (udp_batch.cpp)
  struct Destination {
    sockaddr_storage address;
    socklen_t size;
    asio::ip::address source;  // unspecified: the kernel's choice
  };

  std::uint16_t destination_of(const sockaddr* to, socklen_t to_size,
                               const asio::ip::address& source);
  void remember_source(const asio::ip::address& source);
  void add_gone(const asio::ip::address& source);
  void note_forgotten(const asio::ip::address& source);
  bool retry_without_source();
  void commit_to(std::size_t size, std::uint16_t destination);
  void arrange();
  void consume(std::size_t n);
  void reprobe_gso_if_due();
  std::size_t run_length(std::size_t first) const;
  std::size_t build_messages(Messages& m, const sockaddr* to, socklen_t to_size);
  void build_message(Messages& m, std::size_t index, std::size_t first, std::size_t count,
                     const sockaddr* to, socklen_t to_size);
  void advance(const Messages& m, int sent);
  bool handle_failure(int err, std::size_t first_count);
  std::error_code give_up(int err, std::size_t first_count);
  void limit_gso(std::size_t segment, int err);

  std::vector<std::byte> buffer_;
  std::vector<std::size_t> sizes_, offsets_;  // per datagram, in commit order
  // Per datagram: an index into destinations_ (0: send()'s `to`).
  std::vector<std::uint16_t> destination_;
  std::vector<Destination> destinations_;  // [0] unused: send()'s `to`
  std::uint16_t last_destination_ = 0;
  Destination failed_{};  // where the last error returned by send() went (size 0: `to`)
  bool mixed_ = false;    // more than one destination queued: send() groups them
  // The send order (datagram indices, grouped per destination), from next_ on unsent;
  // ordered_: how many datagrams arrange() has placed; sent_: how many are gone (sent or
  // dropped). scratch_/counts_: arrange()'s work space, kept for their capacity.
  std::vector<std::size_t> order_, scratch_, counts_;
  std::size_t end_ = 0, next_ = 0, ordered_ = 0, sent_ = 0, max_datagram_;
  bool gso_ = true;
  const util::Clock* clock_;
  SendMmsg send_mmsg_;
  std::size_t gso_limit_ = SIZE_MAX, gso_limit_logged_ = SIZE_MAX;
  util::Clock::time_point gso_limited_at_{};
  bool refused_retried_ = false;
  std::string notice_;
  std::uint64_t syscalls_ = 0, dropped_ = 0, oversize_ = 0;
  // Source addresses a send failed from (few: the host's addresses that went away).
  std::vector<asio::ip::address> gone_sources_;
  // A source whose entry is being sent again without it (unspecified: none).
  asio::ip::address suspect_;
  std::uint64_t sources_forgotten_ = 0;
};

class DatagramReceiver {
 public:
  // `local`: the address of this host the datagram was sent to (pktinfo on), else
  // unspecified.
  using Handler =
      std::function<void(util::ByteSpan datagram, const sockaddr* from, socklen_t from_size,
                         bool truncated, const asio::ip::address& local)>;
  // Turns UDP_GRO on for `fd` when asked to and the kernel has it; `pktinfo`: reports each
  // datagram's local address (pktinfo.hpp; for a socket bound to a wildcard address).
  DatagramReceiver(int fd, bool gro, bool pktinfo = false);
  // Receives one batch; calls `handler` per datagram. Returns would_block when the socket
  // was empty, an error from recvmmsg, or nothing after a batch.
  std::error_code receive(const Handler& handler);
  bool gro() const { return gro_; }
  bool pktinfo() const { return pktinfo_; }

 private:
  int fd_;
  bool gro_ = false, pktinfo_ = false;
  std::vector<std::byte> buffers_;
};

}  // namespace tund::transport
