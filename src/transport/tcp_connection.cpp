#include "tcp_connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "socket_flags.hpp"
#include "tund/proto/wire.hpp"

namespace tund::transport {
namespace {

// Output buffer fill level at which the engine must stop handing us frames.
constexpr std::size_t kHighWater = 128 * 1024;
// The output buffer: room behind the high-water mark for one message slot and one
// control message, rounded up to whole pages by the mapping.
constexpr std::size_t kOutputBuffer =
    kHighWater + 2 * proto::kTcpLengthPrefix + kMessageSlot + kMaxMessage;
// What the wire format can carry, not our MTU: a peer with a larger MTU (simpletun's
// 1500 against our 1400) sends plausible packets that the device still accepts. The
// u16 length prefix bounds every message, sealed ones included.
constexpr std::size_t kMaxFramePayload = proto::kMaxFrameAbsolute;

void set_int_option(int fd, int level, int name, int value) {
  // Failure only loses a tuning knob (e.g. an old kernel), never correctness.
  (void)::setsockopt(fd, level, name, &value, sizeof value);
}

}  // namespace

void configure_tunnel_socket(asio::ip::tcp::socket& socket) {
  int fd = socket.native_handle();
  set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  set_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  set_int_option(fd, IPPROTO_TCP, TCP_KEEPIDLE, 10);
  set_int_option(fd, IPPROTO_TCP, TCP_KEEPINTVL, 5);
  set_int_option(fd, IPPROTO_TCP, TCP_KEEPCNT, 3);
  // Unacknowledged data for 30 s also means the peer is gone.
  set_int_option(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 30000);
}

TcpConnection::TcpConnection(asio::ip::tcp::socket socket, const Endpoint& endpoint, Owner& owner)
    : socket_(std::move(socket)),
      endpoint_(endpoint),
      // Port 0: the remote end was unknown at accept (reset at once); logged as "?".
      name_(endpoint.port == 0 ? "?" : to_string(endpoint)),
      owner_(owner) {
  set_close_on_exec(socket_.native_handle());
  configure_tunnel_socket(socket_);
  // The error_code overload: this runs inside accept/connect handlers, where an exception
  // would reach std::terminate. A socket that cannot be made non-blocking fails its first
  // read and is closed like any broken connection.
  std::error_code ignored;
  socket_.non_blocking(true, ignored);
}

void TcpConnection::start() {
  read_more();
}

void TcpConnection::close(const std::string& reason, bool notify) {
  if (closed_) return;
  closed_ = true;
  std::error_code ignored;
  socket_.close(ignored);
  if (notify) owner_.on_closed(*this, reason);
}

bool TcpConnection::release_if_idle() {
  bool idle = !active_;
  active_ = false;
  if (!idle) return false;
  if (partial_.empty())
    std::vector<std::byte>().swap(partial_);
  else
    partial_.shrink_to_fit();
  if (out_begin_ == out_end_ && !write_waiting_) {
    out_.release();
    out_begin_ = out_end_ = 0;
  }
  return true;
}

// ---- receive: socket -> shared buffer -> owner --------------------------------------------

// A readiness wait holds no buffer: a thousand idle connections wait for nothing but their
// sockets.
void TcpConnection::read_more() {
  socket_.async_wait(asio::ip::tcp::socket::wait_read, life_.guard([this](std::error_code ec) {
    if (closed_) return;
    if (ec)
      on_read_error(ec);
    else
      on_readable();
  }));
}

// The carried partial frame goes first into the shared buffer, then as much as the
// socket has: frames are contiguous there, and handed on in place.
void TcpConnection::on_readable() {
  util::ByteSpan buffer = owner_.receive_buffer();
  std::size_t carried = partial_.size();
  std::copy(partial_.begin(), partial_.end(), buffer.begin());
  ssize_t n = ::recv(socket_.native_handle(), buffer.data() + carried, buffer.size() - carried,
                     MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    read_more();  // a spurious wake-up; nothing consumed
    return;
  }
  if (n <= 0) {
    on_read_error(n == 0 ? asio::error::make_error_code(asio::error::eof)
                         : std::error_code(errno, std::generic_category()));
    return;
  }
  active_ = true;
  partial_.clear();  // keeps its capacity while the connection is busy
  deliver(buffer.first(carried + static_cast<std::size_t>(n)));
  owner_.on_read_done();
  if (!closed_) read_more();
}

void TcpConnection::on_read_error(const std::error_code& ec) {
  if (!partial_.empty()) {
    ++owner_.wire_stats().rx_truncated;
    complain("stream ended inside a frame (" + std::to_string(partial_.size()) + " bytes pending)");
  }
  close(ec == asio::error::eof ? "closed by peer" : ec.message());
}

// Every complete frame in `data` to the owner; an incomplete one at the end is kept. A
// length of 0 is not tund/simpletun framing. The u16 prefix cannot exceed what the wire
// allows (kMaxFramePayload is its maximum), so no frame is too large here.
void TcpConnection::deliver(util::ByteSpan data) {
  static_assert(kMaxFramePayload >= 0xffff, "a frame longer than allowed would need skipping");
  while (data.size() >= proto::kTcpLengthPrefix && !closed_) {
    std::size_t size =
        (std::to_integer<std::size_t>(data[0]) << 8) | std::to_integer<std::size_t>(data[1]);
    if (size == 0) {
      ++owner_.wire_stats().rx_zero_length;
      complain("zero-length frame: stream is not tund/simpletun framing");
      close("protocol error");
      return;
    }
    if (data.size() < proto::kTcpLengthPrefix + size) break;
    owner_.on_frame(*this, data.subspan(proto::kTcpLengthPrefix, size));
    data = data.subspan(proto::kTcpLengthPrefix + size);
  }
  if (!closed_) partial_.assign(data.begin(), data.end());
}

void TcpConnection::complain(const std::string& what) {
  owner_.complain("from " + name_ + ": " + what);
}

// ---- send: engine -> output buffer -> socket --------------------------------------------

// Mapped when first needed; a connection whose buffer cannot be mapped (out of memory) is
// not writable, and the engine treats it as blocked.
bool TcpConnection::ensure_output() const {
  return out_ || out_.acquire(kOutputBuffer);
}

bool TcpConnection::writable() const {
  return !closed_ && out_end_ <= kHighWater && ensure_output();
}

util::ByteSpan TcpConnection::message_slot() {
  if (!ensure_output()) return {};
  return {out_.data() + out_end_ + proto::kTcpLengthPrefix, kMessageSlot};
}

bool TcpConnection::commit_message(std::size_t size) {
  if (closed_ || size == 0 || size > kMaxMessage || !out_ || !has_room(size)) return false;
  proto::encode_length_prefix(out_.data() + out_end_, size);
  out_end_ += proto::kTcpLengthPrefix + size;
  active_ = true;
  return true;
}

bool TcpConnection::has_room(std::size_t size) const {
  return out_end_ + proto::kTcpLengthPrefix + size <= out_.size();
}

bool TcpConnection::send_message(util::ConstByteSpan message) {
  if (closed_ || message.empty() || message.size() > kMaxMessage) return false;
  if (out_begin_ == out_end_ && !write_waiting_ && send_direct(message)) return true;
  if (closed_ || !ensure_output() || !has_room(message.size())) return false;
  std::copy(message.begin(), message.end(), message_slot().begin());
  commit_message(message.size());
  flush();
  return true;
}

// Nothing is queued: the message goes to the socket from where it is (a keepalive or a
// handshake needs no buffer). False if the socket took only part of it, or none (then
// the caller queues it); a failed socket is closed (and true: nothing to queue).
bool TcpConnection::send_direct(util::ConstByteSpan message) {
  std::byte prefix[proto::kTcpLengthPrefix];
  proto::encode_length_prefix(prefix, message.size());
  iovec parts[2] = {{prefix, sizeof prefix},
                    {const_cast<std::byte*>(message.data()), message.size()}};
  msghdr header{};
  header.msg_iov = parts;
  header.msg_iovlen = 2;
  ssize_t n;
  do n = ::sendmsg(socket_.native_handle(), &header, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof prefix + message.size())) return true;
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    close(std::string("send: ") + strerror(errno));
    return true;
  }
  if (n <= 0) return false;
  // Part of it went: the rest is queued first, and the socket awaited.
  auto sent = static_cast<std::size_t>(n);
  if (!ensure_output()) {
    close("out of memory for the output buffer");
    return true;
  }
  std::byte* at = out_.data();
  if (sent < sizeof prefix) *at++ = prefix[1];
  std::size_t from = sent < sizeof prefix ? 0 : sent - sizeof prefix;
  at = std::copy(message.begin() + static_cast<std::ptrdiff_t>(from), message.end(), at);
  out_begin_ = 0;
  out_end_ = static_cast<std::size_t>(at - out_.data());
  active_ = true;
  flush();
  return true;
}

void TcpConnection::flush() {
  if (closed_ || write_waiting_) return;
  while (out_begin_ < out_end_) {
    ssize_t n = ::send(socket_.native_handle(), out_.data() + out_begin_, out_end_ - out_begin_,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out_begin_ += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      wait_writable();
      return;
    } else {
      close(n < 0 ? std::string("send: ") + strerror(errno) : "send returned 0");
      return;
    }
  }
  out_begin_ = out_end_ = 0;
}

// The kernel buffer is full: keep the unsent tail at the front of the buffer (at most
// kHighWater + one frame is moved) and resume when the socket drains.
void TcpConnection::wait_writable() {
  std::memmove(out_.data(), out_.data() + out_begin_, out_end_ - out_begin_);
  out_end_ -= out_begin_;
  out_begin_ = 0;
  write_waiting_ = true;
  socket_.async_wait(asio::ip::tcp::socket::wait_write, life_.guard([this](std::error_code ec) {
    write_waiting_ = false;
    if (closed_ || ec) return;
    flush();
    if (writable()) owner_.on_drained();
  }));
}

}  // namespace tund::transport
