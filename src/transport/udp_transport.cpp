#include "tund/transport/udp_transport.hpp"

#include <sys/socket.h>

#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <cerrno>
#include <cstring>

#include "listen_socket.hpp"
#include "socket_flags.hpp"
#include "tund/proto/timers.hpp"
#include "tund/transport/pktinfo.hpp"

namespace tund::transport {
namespace {

// recvmmsg calls per wake-up before yielding to the other direction (each takes up to
// 16 datagrams, or 16 GRO bundles of many).
constexpr int kReceiveBatches = 4;

bool is_icmp_report(const std::error_code& ec) {
  // ICMP errors surfaced on the socket (server not up yet, a route flapping): reported
  // once and cleared by the read that returned them. The tunnel outlives them.
  switch (errno_of(ec)) {
    case ECONNREFUSED:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ECONNRESET:
    case EMSGSIZE:
    case ENETDOWN:
    case ETIMEDOUT:
    case EPROTO:
      return true;
    default:
      return false;
  }
}

asio::ip::udp::endpoint to_udp(const Endpoint& e) {
  return {e.address, e.port};
}

// One datagram to `to`, leaving from `source` (unspecified: the kernel's choice).
std::error_code send_from(int fd, util::ConstByteSpan message, const asio::ip::udp::endpoint& to,
                          const asio::ip::address& source) {
  iovec iov{const_cast<std::byte*>(message.data()), message.size()};
  alignas(cmsghdr) char control[kPktinfoSpace];
  msghdr h{};
  h.msg_name = const_cast<sockaddr*>(to.data());
  h.msg_namelen = static_cast<socklen_t>(to.size());
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  if (std::size_t used = write_pktinfo(reinterpret_cast<cmsghdr*>(control), source)) {
    h.msg_control = control;
    h.msg_controllen = used;
  }
  ssize_t sent;
  do {
    sent = ::sendmsg(fd, &h, MSG_DONTWAIT);
  } while (sent < 0 && errno == EINTR);
  return sent < 0 ? std::error_code(errno, std::generic_category()) : std::error_code{};
}

}  // namespace

UdpTransport::UdpTransport(asio::io_context& io, UdpOptions options, util::Logger& log,
                           const util::Clock& clock)
    : options_(std::move(options)),
      log_(log),
      clock_(clock),
      socket_(io),
      timer_(io),
      receive_pause_(io),
      complaints_(options_.complaints ? *options_.complaints : own_complaints_),
      // Each slot has room for the largest message the engine may write (kMessageSlot), so
      // an oversize device read is seen whole by the engine (and answered), not truncated.
      batch_(kMessageSlot, options_.offload) {
  if (options_.server)
    open_server();
  else
    server_.emplace(io, options_.remote, log);
}

void UdpTransport::open_server() {
  bind_listener(options_.listen, options_.port, "UDP", [&](const asio::ip::address& address) {
    asio::ip::udp::endpoint endpoint(address, options_.port);
    if (socket_.is_open()) socket_.close();
    socket_.open(endpoint.protocol());
    set_close_on_exec(socket_.native_handle());
    if (address.is_v6()) socket_.set_option(asio::ip::v6_only(false));
    socket_.bind(endpoint);
    socket_.non_blocking(true);
  });
  // Bound to a wildcard address on a host with several, the kernel would answer from the
  // address its route prefers, which a client connected to another one drops: each
  // datagram's local address is recorded (Endpoint::local) and answers leave from it. A
  // named --listen address is the source of everything already.
  receiver_socket_.emplace(socket_.native_handle(), options_.offload, is_wildcard(options_.listen));
}

void UdpTransport::start(Receiver& receiver) {
  receiver_ = &receiver;
  const char* mode = options_.encrypted ? ", encrypted" : "";
  if (options_.server) {
    std::error_code ec;
    auto local = socket_.local_endpoint(ec);
    log_.info("listening on ", ec ? "?" : to_string(local.address(), local.port()), " (udp", mode,
              ")");
    receive();
  } else {
    log_.info("sending to ", server_->name(), " (udp", mode, "); waiting for the server to answer");
  }
  // The first checks (the client's connect) run from the loop, not inside start(): the
  // Receiver hears of the endpoint from the loop like of everything else.
  asio::post(socket_.get_executor(), life_.guard([this] {
    if (stopped_) return;
    run_timers();
    schedule_tick();
  }));
}

std::uint16_t UdpTransport::local_port() const {
  std::error_code ec;
  auto local = socket_.local_endpoint(ec);
  return ec ? 0 : local.port();
}

void UdpTransport::stop() {
  if (stopped_) return;
  before_send();
  stopped_ = true;
  life_.renew();
  socket_life_.renew();
  timer_.cancel();
  receive_pause_.cancel();
  if (server_) server_->cancel();
  std::error_code ignored;
  socket_.close(ignored);
}

// ---- receive --------------------------------------------------------------------------

void UdpTransport::receive() {
  socket_.async_wait(asio::ip::udp::socket::wait_read,
                     socket_life_.guard([this](std::error_code ec) {
                       if (stopped_ || ec == asio::error::operation_aborted) return;
                       if (ec || !drain_socket()) {
                         pause_receiving();
                         return;
                       }
                       receive();
                     }));
}

void UdpTransport::pause_receiving() {
  receive_pause_.expires_after(proto::kReceiveErrorPause);
  receive_pause_.async_wait(socket_life_.guard([this](std::error_code ec) {
    if (!ec && !stopped_) receive();
  }));
}

// Returns false after an error that may persist (the caller waits a little).
bool UdpTransport::drain_socket() {
  auto handle = [this](util::ByteSpan datagram, const sockaddr* from, socklen_t from_size,
                       bool truncated, const asio::ip::address& local) {
    on_datagram(datagram, from, from_size, truncated, local);
  };
  for (int i = 0; i < kReceiveBatches && !stopped_ && receiver_socket_; ++i) {
    std::uint64_t before = stats_.rx_messages;
    std::error_code ec = receiver_socket_->receive(handle);
    if (stats_.rx_messages != before && !stopped_) receiver_->on_receive_batch_end();
    if (ec == std::errc::operation_would_block) return true;
    if (ec && !is_icmp_report(ec)) {
      complain("receive failed: " + ec.message());
      return false;
    }
  }
  return true;
}

void UdpTransport::on_datagram(util::ByteSpan datagram, const sockaddr* from, socklen_t from_size,
                               bool truncated, const asio::ip::address& local) {
  asio::ip::udp::endpoint sender;
  if (stopped_ || from_size > sender.capacity()) return;
  std::memcpy(sender.data(), from, from_size);
  sender.resize(from_size);
  Endpoint source{sender.address(), sender.port(), 0, local};
  // Arriving at it proves `local` is on the host (again), even if a send failed from it.
  batch_.source_seen(local);
  if (truncated) {  // bigger than any buffer: cannot be a message of ours
    ++stats_.rx_oversize;
    util::warn_limited(log_, complaints_,
                       [&] { return "dropped an oversize datagram from " + to_string(source); });
    return;
  }
  ++stats_.rx_messages;
  stats_.rx_bytes += datagram.size();
  receiver_->on_message(source, datagram);
}

// ---- send -----------------------------------------------------------------------------

bool UdpTransport::writable(const Endpoint& to) const {
  if (stopped_ || send_blocked_ || !socket_.is_open()) return false;
  return options_.server || (connected_ && current_ == to);
}

// A batch holds messages for any number of destinations (a hub's device packets interleave
// its peers): they go out together at flush(), one sendmmsg per batch (udp_batch.hpp).
// Nothing fits while the batch is full and blocked (EAGAIN): then writable() is false.
util::ByteSpan UdpTransport::message_slot(const Endpoint&) {
  if (batch_.full()) return {};
  return {batch_.slot(), kMessageSlot};
}

bool UdpTransport::commit(const Endpoint& to, std::size_t size) {
  // Beyond the wire's limit, into a full batch, or (client) not to its server: the
  // message cannot join the batch.
  bool client_target = options_.server || (connected_ && current_ == to);
  if (size > kMaxMessage || batch_.full() || !client_target) {
    ++stats_.tx_dropped;
    return false;
  }
  if (options_.server) {
    auto udp = to_udp(to);
    batch_.commit(size, udp.data(), static_cast<socklen_t>(udp.size()), to.local);
  } else {
    batch_.commit(size);  // the connected socket's address
  }
  ++stats_.tx_messages;
  stats_.tx_bytes += size;
  if (batch_.full() && !send_blocked_) send_batch();
  return true;
}

void UdpTransport::flush() {
  if (!send_blocked_) send_batch();
}

// Sends the batch; on EAGAIN the rest waits for the socket (and the engine stops reading
// the device meanwhile: writable() is false). A server's error concerns one destination:
// the failed entry is dropped and the rest goes on (each round drops at least one entry,
// so this ends).
void UdpTransport::send_batch() {
  if (batch_.empty()) return;
  before_send();
  if (!options_.server && !connected_) {
    stats_.tx_dropped += batch_.queued();
    batch_.clear();
    return;
  }
  for (;;) {
    std::error_code ec = batch_.send(socket_.native_handle(), nullptr, 0);
    note_batch_counters();
    if (ec == std::errc::operation_would_block) {
      send_blocked_ = true;
      wait_writable();
      return;
    }
    if (!ec) return;
    bool per_destination = options_.server && classify_send_error(ec) != SendFault::transient;
    if (!per_destination || batch_.empty()) {
      on_send_error(ec);
      return;
    }
    complain("send to " + failed_destination() + " failed: " + ec.message());
  }
}

// What the batch counted during send(): GSO notices, drops, datagrams too large to send.
void UdpTransport::note_batch_counters() {
  std::string notice = batch_.take_notice();
  if (!notice.empty()) log_.info(notice);
  stats_.tx_dropped += batch_.dropped() - dropped_seen_;
  dropped_seen_ = batch_.dropped();
  if (batch_.oversize() != oversize_seen_) {
    oversize_seen_ = batch_.oversize();
    complain("dropped a datagram too large for any UDP send (" + std::to_string(oversize_seen_) +
             " so far)");
  }
}

std::string UdpTransport::failed_destination() const {
  socklen_t size = 0;
  const sockaddr* to = batch_.failed_to(size);
  if (!to) return current_name();
  asio::ip::udp::endpoint endpoint;
  if (size > endpoint.capacity()) return "?";
  std::memcpy(endpoint.data(), to, size);
  endpoint.resize(size);
  return to_string(endpoint.address(), endpoint.port());
}

// Each kind of send error means something else (udp_batch.hpp): a lost path is a state
// change of the client's (logged once), the rest loses this batch (counted, complained
// about at a bounded rate). None of them is an address change.
void UdpTransport::on_send_error(const std::error_code& ec) {
  stats_.tx_dropped += batch_.queued();  // the rest would most likely fail the same way
  batch_.clear();
  SendFault fault = classify_send_error(ec);
  if (fault == SendFault::no_route && !options_.server) {
    lose_route(ec.message());
    return;
  }
  if (fault == SendFault::refused && !options_.server) return;  // nobody listens yet: probing
  complain("send to " + failed_destination() + " failed: " + ec.message());
}

// Control messages (handshakes, keepalives): small, rare, best effort. What is committed
// goes first, so nothing is overtaken.
bool UdpTransport::send_control(const Endpoint& to, util::ConstByteSpan message) {
  if (!writable(to)) return false;
  flush();
  if (send_blocked_ || !writable(to)) return false;
  if (!send_raw(message, to)) return false;
  ++stats_.tx_messages;
  stats_.tx_bytes += message.size();
  return true;
}

bool UdpTransport::send_raw(util::ConstByteSpan message, const Endpoint& to) {
  std::error_code ec;
  auto buffer = asio::buffer(message.data(), message.size());
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (options_.server)
      ec = send_to_endpoint(message, to);
    else
      socket_.send(buffer, 0, ec);
    // A late ICMP port unreachable fails the next send once and is cleared: retry once.
    if (classify_send_error(ec) != SendFault::refused) break;
  }
  switch (classify_send_error(ec)) {
    case SendFault::none:
      return true;
    case SendFault::no_route:
      if (options_.server) break;
      lose_route(ec.message());
      return false;
    case SendFault::refused:
      if (!options_.server) return false;  // the server is not up yet: the initiator retries
      break;
    default:
      break;
  }
  complain("send to " + to_string(to) + " failed: " + ec.message());
  return false;
}

// A server's datagram to `to`, from the address `to` sent to while the host has it (as
// the batch does). A send that fails as one from a source the host no longer has would
// (IPv4: ENETUNREACH, IPv6: EINVAL, EADDRNOTAVAIL) goes again from the kernel's choice;
// if that works, the source is forgotten (logged once).
std::error_code UdpTransport::send_to_endpoint(util::ConstByteSpan message, const Endpoint& to) {
  asio::ip::address source = batch_.source_usable(to.local) ? to.local : asio::ip::address{};
  std::error_code ec = send_from(socket_.native_handle(), message, to_udp(to), source);
  int err = errno_of(ec);
  bool source_error = err == EINVAL || err == EADDRNOTAVAIL || err == ENETUNREACH;
  if (!source_error || source.is_unspecified()) return ec;
  ec = send_from(socket_.native_handle(), message, to_udp(to), {});
  if (!ec) {
    batch_.forget_source(source);
    note_batch_counters();
  }
  return ec;
}

void UdpTransport::wait_writable() {
  socket_.async_wait(asio::ip::udp::socket::wait_write,
                     socket_life_.guard([this](std::error_code ec) {
                       if (ec || stopped_) return;
                       send_blocked_ = false;
                       send_batch();
                       if (!send_blocked_) notify_resume();
                     }));
}

void UdpTransport::notify_resume() {
  if (!resume_) return;
  auto resume = std::move(resume_);
  resume_ = nullptr;
  resume();
}

// ---- timers ---------------------------------------------------------------------------

void UdpTransport::run_timers() {
  if (!options_.server) client_tick(clock_.now());
  util::report_suppressed(log_, complaints_, util::LogLevel::warn, "refused input");
}

void UdpTransport::schedule_tick() {
  timer_.expires_after(proto::kTimerTick);
  timer_.async_wait(life_.guard([this](std::error_code ec) {
    if (ec || stopped_) return;
    run_timers();
    schedule_tick();
  }));
}

void UdpTransport::complain(const std::string& what) {
  util::warn_limited(log_, complaints_, what);
}

}  // namespace tund::transport
