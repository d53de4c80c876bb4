#include "tcp_connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "socket_flags.hpp"
#include "tund/proto/wire.hpp"

namespace tund::transport {
namespace {

// Output buffer fill level at which the engine must stop handing us frames.
constexpr std::size_t kHighWater = 128 * 1024;
// Receive buffer: many frames per recv() syscall.
constexpr std::size_t kReceiveBuffer = 256 * 1024;
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
      owner_(owner),
      decoder_(kMaxFramePayload, kReceiveBuffer),
      // Room behind the high-water mark for one message slot and one control message.
      out_(kHighWater + 2 * proto::kTcpLengthPrefix + kMessageSlot + kMaxMessage) {
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

// ---- receive: socket -> decoder -> owner ------------------------------------------------

void TcpConnection::read_more() {
  auto space = decoder_.free_space();
  socket_.async_read_some(asio::buffer(space.data(), space.size()),
                          life_.guard([this](std::error_code ec, std::size_t n) {
                            if (closed_) return;
                            if (ec)
                              on_read_error(ec);
                            else
                              on_read(n);
                          }));
}

void TcpConnection::on_read_error(const std::error_code& ec) {
  if (decoder_.pending() > 0) {
    ++owner_.wire_stats().rx_truncated;
    complain("stream ended inside a frame (" + std::to_string(decoder_.pending()) +
             " bytes pending)");
  }
  close(ec == asio::error::eof ? "closed by peer" : ec.message());
}

void TcpConnection::on_read(std::size_t n) {
  decoder_.commit(n);
  for (;;) {
    proto::DecodeResult result = decoder_.next();
    if (result.status == proto::DecodeStatus::need_more) break;
    if (!handle_decoded(result)) break;  // connection closed
  }
  owner_.on_read_done();
  if (!closed_) read_more();
}

bool TcpConnection::handle_decoded(const proto::DecodeResult& result) {
  switch (result.status) {
    case proto::DecodeStatus::frame:
      owner_.on_frame(*this, result.frame);
      return !closed_;
    case proto::DecodeStatus::skipped:
      ++owner_.wire_stats().rx_oversize;
      complain("dropped a " + std::to_string(result.declared_size) +
               "-byte frame: larger than the wire format allows (" +
               std::to_string(kMaxFramePayload) + ")");
      return true;
    case proto::DecodeStatus::error:
      ++owner_.wire_stats().rx_zero_length;
      complain("zero-length frame: stream is not tund/simpletun framing");
      close("protocol error");
      return false;
    case proto::DecodeStatus::need_more:
      break;
  }
  return true;
}

void TcpConnection::complain(const std::string& what) {
  owner_.complain("from " + name_ + ": " + what);
}

// ---- send: engine -> output buffer -> socket --------------------------------------------

bool TcpConnection::writable() const {
  return !closed_ && out_end_ <= kHighWater;
}

util::ByteSpan TcpConnection::message_slot() {
  return {out_.data() + out_end_ + proto::kTcpLengthPrefix, kMessageSlot};
}

bool TcpConnection::commit_message(std::size_t size) {
  if (closed_ || size == 0 || size > kMaxMessage || !has_room(size)) return false;
  proto::encode_length_prefix(out_.data() + out_end_, size);
  out_end_ += proto::kTcpLengthPrefix + size;
  return true;
}

bool TcpConnection::has_room(std::size_t size) const {
  return out_end_ + proto::kTcpLengthPrefix + size <= out_.size();
}

bool TcpConnection::send_message(util::ConstByteSpan message) {
  if (closed_ || message.empty() || !has_room(message.size())) return false;
  std::copy(message.begin(), message.end(), message_slot().begin());
  commit_message(message.size());
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
