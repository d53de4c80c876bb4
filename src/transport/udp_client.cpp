// The UDP client's side of UdpTransport: which of the server's addresses it sends to,
// connecting its socket there (and again when the route or its own address changes), and
// moving on to the next address, or a fresh lookup, when one does not answer.
#include <sys/socket.h>

#include "local_bind.hpp"
#include "socket_flags.hpp"
#include "tund/proto/timers.hpp"
#include "tund/transport/udp_transport.hpp"

namespace tund::transport {

Endpoint UdpTransport::target() const {
  return server_->addresses()[target_];
}

std::string UdpTransport::current_name() const {
  return current_ ? to_string(*current_) : server_->name();
}

void UdpTransport::client_tick(Time now) {
  if (server_->addresses().empty()) {  // the start-up lookup failed: try again
    if (server_->busy()) return;
    if (now < last_lookup_ + proto::kLookupInterval && last_lookup_ != Time{}) return;
    last_lookup_ = now;
    server_->refresh(life_.guard([this] { on_lookup_done({}); }));
    return;
  }
  if (!connected_) {
    if (now >= next_connect_) connect_target();
    return;
  }
  // Not while a lookup is in flight: on_lookup_done carries on from its answer.
  if (!answering_ && !server_->busy() && now - target_since_ >= proto::kAddressPatience)
    try_next_address(now);
}

// The peer behind the current address answers (or stopped answering): an address that
// answers is kept; one that stops gets the full patience from now on.
void UdpTransport::set_answering(const Endpoint& endpoint, bool answering) {
  if (options_.server || !connected_ || !(current_ == endpoint)) return;
  if (answering) send_failure_logged_ = false;
  if (answering_ && !answering) target_since_ = clock_.now();
  answering_ = answering;
}

// Connects to target(), or else to the first of the other addresses that has a route.
void UdpTransport::connect_target() {
  auto now = clock_.now();
  std::size_t n = server_->addresses().size();
  std::error_code ec;
  for (std::size_t i = 0; i < n; ++i, target_ = (target_ + 1) % n)
    if (connect_to({target().address, target().port}, ec)) break;
  if (ec) {
    next_connect_ = now + proto::kRouteRetry;
    if (ec.message() != route_problem_) {
      route_problem_ = ec.message();
      log_.warn("cannot reach ", server_->name(), ": ", route_problem_, "; retrying each second");
    }
    return;
  }
  // A new address, or the route back after an outage: give it the full patience.
  if (current_ != target() || !route_problem_.empty()) target_since_ = now;
  current_ = target();
  connected_ = true;
  answering_ = false;  // until the engine hears from it on this path
  note_source();
  route_problem_.clear();
  receiver_->on_endpoint_up(*current_);
  notify_resume();
}

// A connected UDP socket keeps the source address chosen at its first connect, even after
// that address disappears: dissolve the association (AF_UNSPEC) first so the kernel picks
// the current one. The socket is reopened when the address family changes.
bool UdpTransport::connect_to(const asio::ip::udp::endpoint& to, std::error_code& ec) {
  ec.clear();
  if (!socket_.is_open() || socket_.local_endpoint(ec).protocol() != to.protocol() || ec) {
    if (!open_socket(to, ec)) return false;
  } else {
    sockaddr unspec{};
    unspec.sa_family = AF_UNSPEC;
    (void)::connect(socket_.native_handle(), &unspec, sizeof unspec);
  }
  socket_.connect(to, ec);
  return !ec;
}

// A fresh socket for `like`'s family, bound to options_.bind_address if one is set (an
// address bound so survives the AF_UNSPEC dissolve above: the kernel keeps a locked
// source address); the old socket's handlers are disarmed. False (`ec` set, no socket)
// if it cannot be opened or bound.
bool UdpTransport::open_socket(const asio::ip::udp::endpoint& like, std::error_code& ec) {
  socket_life_.renew();
  receiver_socket_.reset();
  std::error_code ignored;
  socket_.close(ignored);
  stats_.tx_dropped += batch_.queued();
  batch_.clear();
  send_blocked_ = false;
  socket_.open(like.protocol(), ec);
  if (ec) {
    complain("cannot open a UDP socket: " + ec.message());
    return false;
  }
  set_close_on_exec(socket_.native_handle());
  bind_local(socket_, options_.bind_address, like, ec);
  if (ec) {
    socket_.close(ignored);
    return false;
  }
  socket_.non_blocking(true, ignored);
  receiver_socket_.emplace(socket_.native_handle(), options_.offload);
  receive();
  return true;
}

// Logs where datagrams now leave from, when that changed (a new address after DHCP, the
// route back after an outage); a new source port alone is not worth a line.
void UdpTransport::note_source() {
  std::error_code ec;
  auto local = socket_.local_endpoint(ec);
  std::string address = ec ? "?" : describe({{local.address(), 0}});
  if (!route_problem_.empty())
    log_.info("route to ", server_->name(), " is back; sending from ", address);
  else if (!source_.empty() && address != source_)
    log_.info("now sending from ", address);
  source_ = address;
}

// A send found no path (no route, the source address gone). Re-connect after a moment;
// one line until the server answers again, however many sends fail meanwhile.
void UdpTransport::lose_route(const std::string& why) {
  if (!connected_) return;
  connected_ = false;
  next_connect_ = clock_.now() + proto::kRouteRetry;
  if (!send_failure_logged_) {
    send_failure_logged_ = true;
    log_.warn("sending to ", current_name(), " failed (", why, "); checking the route each second");
  }
  if (answering_) target_since_ = clock_.now();
  answering_ = false;
  receiver_->on_endpoint_down(*current_, why);
  notify_resume();
}

// The current address has not answered: the next one, or after the last a new lookup (the
// server may have moved).
void UdpTransport::try_next_address(Time now) {
  target_since_ = now;
  std::size_t n = server_->addresses().size();
  bool last = target_ + 1 >= n;
  if (last && now - last_lookup_ >= proto::kLookupInterval) {
    last_lookup_ = now;
    auto before = server_->addresses();
    server_->refresh(life_.guard([this, before] { on_lookup_done(before); }));
    return;
  }
  if (n < 2) return;
  target_ = last ? 0 : target_ + 1;
  start_on_target();
}

void UdpTransport::on_lookup_done(const std::vector<Endpoint>& before) {
  const auto& addresses = server_->addresses();
  if (addresses.empty()) return;
  if (addresses == before && addresses.size() == 1) return;  // keep probing the one address
  target_ = 0;
  start_on_target();
}

// Sends to target() from now on: leaves the current address (reported down) and connects
// to the new one (reported up), where the engine probes or handshakes at once.
void UdpTransport::start_on_target() {
  std::string next = to_string(target());
  if (current_ && *current_ != target())
    log_.info("no answer from ", current_name(), "; trying ", next);
  target_since_ = clock_.now();
  send_failure_logged_ = false;
  bool was_connected = connected_;
  connected_ = false;
  answering_ = false;
  if (was_connected) receiver_->on_endpoint_down(*current_, "no answer; trying " + next);
  current_.reset();
  connect_target();
}

}  // namespace tund::transport
