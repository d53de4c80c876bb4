// Batched UDP syscalls, so a burst of frames costs a few syscalls instead of one each:
//   DatagramBatch    collects datagrams in one buffer; send() hands runs of equal-size
//                    datagrams to the kernel as one UDP GSO send (UDP_SEGMENT), several
//                    runs per sendmmsg. Without GSO every datagram is its own sendmmsg entry.
//   DatagramReceiver recvmmsg into a ring of 64 KB buffers, with UDP_GRO on: the kernel
//                    may deliver many same-size datagrams of one sender as one buffer,
//                    which is split back at the size it reports.
// Both fall back by themselves when the kernel refuses a feature (and say so, once).
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "tund/util/bytes.hpp"

namespace tund::transport {

class DatagramBatch {
 public:
  // `max_datagram`: the largest datagram one slot must hold; `gso`: try UDP GSO.
  DatagramBatch(std::size_t max_datagram, bool gso);

  std::byte* slot() { return buffer_.data() + end_; }
  void commit(std::size_t size);
  bool full() const;
  bool empty() const { return next_ == sizes_.size(); }
  std::size_t queued() const { return sizes_.size() - next_; }

  // Sends what is queued to `to` (nullptr on a connected socket). Stops at EAGAIN (the rest
  // stays queued: call again when writable) and returns would_block; any other error drops
  // the datagrams of the failed call, returns the error and leaves the rest queued.
  std::error_code send(int fd, const sockaddr* to, socklen_t to_size);
  void clear();
  bool gso() const { return gso_; }
  // Set when GSO was just found unusable (the caller logs it once).
  std::string take_notice() { return std::exchange(notice_, {}); }
  std::uint64_t syscalls() const { return syscalls_; }
  std::uint64_t dropped() const { return dropped_; }  // datagrams lost to send errors

 private:
  std::vector<std::byte> buffer_;
  std::vector<std::size_t> sizes_, offsets_;
  std::size_t end_ = 0, next_ = 0, max_datagram_;
  bool gso_ = true;
  std::string notice_;
  std::uint64_t syscalls_ = 0, dropped_ = 0;
};

class DatagramReceiver {
 public:
  using Handler = std::function<void(util::ByteSpan datagram, const sockaddr* from,
                                     socklen_t from_size, bool truncated)>;
  // Turns UDP_GRO on for `fd` when asked to and the kernel has it.
  DatagramReceiver(int fd, bool gro);
  // Receives one batch; calls `handler` per datagram. Returns would_block when the socket
  // was empty, an error from recvmmsg, or nothing after a batch.
  std::error_code receive(const Handler& handler);
  bool gro() const { return gro_; }

 private:
  int fd_;
  bool gro_ = false;
  std::vector<std::byte> buffers_;
};

}  // namespace tund::transport
