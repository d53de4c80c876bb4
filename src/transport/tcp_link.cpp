#include "tund/transport/tcp_link.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>

#include "socket_flags.hpp"
#include "tund/proto/wire.hpp"

namespace tund::transport {
namespace {

// Output buffer fill level at which the engine must stop handing us frames.
constexpr std::size_t kHighWater = 128 * 1024;
// Receive buffer: many frames per recv() syscall.
constexpr std::size_t kReceiveBuffer = 256 * 1024;

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

TcpLink::TcpLink(asio::ip::tcp::socket socket, std::string peer_name, TcpLinkContext context,
                 FrameHandler on_frame, ClosedHandler on_closed, DrainedHandler on_drained)
    : socket_(std::move(socket)),
      peer_name_(std::move(peer_name)),
      ctx_(context),
      on_frame_(std::move(on_frame)),
      on_closed_(std::move(on_closed)),
      on_drained_(std::move(on_drained)),
      decoder_(context.max_message, kReceiveBuffer),
      // Room behind the high-water mark for the largest packet a device read can return.
      out_(kHighWater + proto::kTcpLengthPrefix + proto::kMaxFrameAbsolute + context.max_message) {
  set_close_on_exec(socket_.native_handle());
  // The error_code overload: this runs inside accept/connect handlers, where an exception
  // would reach std::terminate. A socket that cannot be made non-blocking fails its first
  // read and is closed like any broken connection.
  std::error_code ignored;
  socket_.non_blocking(true, ignored);
}

std::string TcpLink::peer_address() const {
  std::error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  return ec ? peer_name_ : remote.address().to_string();
}

void TcpLink::start() {
  read_more();
}

void TcpLink::close(const std::string& reason, bool notify) {
  if (closed_) return;
  closed_ = true;
  std::error_code ignored;
  socket_.close(ignored);
  if (notify && on_closed_) on_closed_(*this, reason);
}

// ---- receive: socket -> decoder -> sink -------------------------------------------------

void TcpLink::read_more() {
  auto space = decoder_.free_space();
  socket_.async_read_some(asio::buffer(space.data(), space.size()),
                          [self = shared_from_this()](std::error_code ec, std::size_t n) {
                            if (self->closed_) return;
                            if (ec) {
                              if (self->decoder_.pending() > 0) {
                                ++self->ctx_.stats->rx_truncated;
                                self->complain("stream ended inside a frame (" +
                                               std::to_string(self->decoder_.pending()) +
                                               " bytes pending)");
                              }
                              self->close(ec == asio::error::eof ? "closed by peer" : ec.message());
                              return;
                            }
                            self->on_read(n);
                          });
}

void TcpLink::on_read(std::size_t n) {
  decoder_.commit(n);
  for (;;) {
    proto::DecodeResult result = decoder_.next();
    if (result.status == proto::DecodeStatus::need_more) break;
    if (!handle_decoded(result)) return;  // connection closed
  }
  read_more();
}

bool TcpLink::handle_decoded(const proto::DecodeResult& result) {
  switch (result.status) {
    case proto::DecodeStatus::frame:
      on_frame_(*this, result.frame);
      return !closed_;
    case proto::DecodeStatus::skipped:
      ++ctx_.stats->rx_oversize;
      complain("dropped a " + std::to_string(result.declared_size) +
               "-byte frame: larger than the wire format allows (" +
               std::to_string(ctx_.max_message) + ")");
      return true;
    case proto::DecodeStatus::error:
      ++ctx_.stats->rx_zero_length;
      complain("zero-length frame: stream is not tund/simpletun framing");
      close("protocol error");
      return false;
    case proto::DecodeStatus::need_more:
      break;
  }
  return true;
}

void TcpLink::complain(const std::string& what) {
  util::warn_limited(*ctx_.log, *ctx_.wire_complaints, "from " + peer_name_ + ": " + what);
}

// ---- send: engine -> output buffer -> socket --------------------------------------------

bool TcpLink::writable() const {
  return !closed_ && out_end_ <= kHighWater;
}

std::byte* TcpLink::message_start() {
  return out_.data() + out_end_ + proto::kTcpLengthPrefix;
}

util::ByteSpan TcpLink::tx_slot(std::size_t offset) {
  return {message_start() + offset, proto::kMaxFrameAbsolute};
}

void TcpLink::commit_message(std::size_t size) {
  proto::encode_length_prefix(out_.data() + out_end_, size);
  out_end_ += proto::kTcpLengthPrefix + size;
}

bool TcpLink::has_room(std::size_t size) const {
  return !closed_ && out_end_ + proto::kTcpLengthPrefix + size <= out_.size();
}

bool TcpLink::send_message(const std::byte* data, std::size_t size) {
  if (!has_room(size)) return false;
  std::copy_n(data, size, message_start());
  commit_message(size);
  flush();
  return true;
}

void TcpLink::flush() {
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
void TcpLink::wait_writable() {
  std::memmove(out_.data(), out_.data() + out_begin_, out_end_ - out_begin_);
  out_end_ -= out_begin_;
  out_begin_ = 0;
  write_waiting_ = true;
  socket_.async_wait(asio::ip::tcp::socket::wait_write,
                     [self = shared_from_this()](std::error_code ec) {
                       self->write_waiting_ = false;
                       if (self->closed_ || ec) return;
                       self->flush();
                       if (self->writable() && self->on_drained_) self->on_drained_();
                     });
}

}  // namespace tund::transport
