#include "tund/transport/tcp_transport.hpp"

#include <asio/post.hpp>

#include "tcp_connection.hpp"
#include "tund/util/lifetime.hpp"

namespace tund::transport {
namespace {

// The receive buffer all connections share: many frames per recv() syscall, and always
// room for a carried partial frame (at most the largest frame) plus new bytes.
constexpr std::size_t kReceiveBuffer = 256 * 1024;
static_assert(kReceiveBuffer >= 2 * (kMaxMessage + proto::kTcpLengthPrefix));

}  // namespace

// TcpConnection::Owner, forwarding to the transport: the connection type is private to
// transport/, so the public class cannot name it as a base.
class TcpTransport::Events final : public TcpConnection::Owner {
 public:
  explicit Events(TcpTransport& transport) : t_(transport) {}
  void on_frame(TcpConnection& connection, util::ByteSpan frame) override {
    t_.on_frame(connection, frame);
  }
  void on_read_done() override {
    if (!t_.stopped_ && t_.receiver_) t_.receiver_->on_receive_batch_end();
  }
  void on_closed(TcpConnection& connection, const std::string& reason) override {
    t_.on_closed(connection, reason);
  }
  void on_drained() override { t_.notify_resume(); }
  TransportStats& wire_stats() override { return t_.stats_; }
  util::ByteSpan receive_buffer() override {
    if (t_.receive_buffer_.empty()) t_.receive_buffer_.resize(kReceiveBuffer);
    return t_.receive_buffer_;
  }
  void complain(const std::string& what) override { t_.complain(what); }

 private:
  TcpTransport& t_;
};

TcpTransport::TcpTransport(asio::io_context& io, util::Logger& log, TcpOptions options,
                           const util::Clock& clock)
    : io_(io),
      log_(log),
      options_(options),
      clock_(clock),
      events_(std::make_unique<Events>(*this)),
      complaints_(options.complaints ? *options.complaints : own_complaints_),
      timer_(io) {}

TcpTransport::~TcpTransport() = default;

void TcpTransport::start(Receiver& receiver) {
  receiver_ = &receiver;
  begin();
  schedule_tick();
}

// Closes everything without telling the Receiver; the connections themselves are
// destroyed later (stop() may run inside one of their handlers).
void TcpTransport::stop() {
  if (stopped_) return;
  before_send();
  stopped_ = true;
  life_.renew();
  timer_.cancel();
  end();
  for (auto& [id, connection] : connections_) {
    connection->close("shutting down", false);
    retired_.push_back(std::move(connection));
  }
  connections_.clear();
  pending_ = 0;
  dirty_.clear();
  last_ = nullptr;
}

TcpConnection* TcpTransport::find(const Endpoint& endpoint) const {
  if (last_ && last_->endpoint().connection == endpoint.connection) return last_;
  auto it = connections_.find(endpoint.connection);
  if (it == connections_.end()) return nullptr;
  last_ = it->second.get();
  return last_;
}

std::size_t TcpTransport::connection_buffers() const {
  std::size_t total = 0;
  for (const auto& [id, connection] : connections_) total += connection->buffered_capacity();
  return total;
}

bool TcpTransport::has_adopted() const {
  for (const auto& [id, connection] : connections_)
    if (connection->adopted) return true;
  return false;
}

// ---- connections come and go ------------------------------------------------------------

void TcpTransport::add_connection(asio::ip::tcp::socket socket, const asio::ip::address& address,
                                  std::uint16_t port, bool adopted) {
  Endpoint endpoint{address, port, next_id_++};
  auto connection = std::make_unique<TcpConnection>(std::move(socket), endpoint, *events_);
  connection->adopted = adopted;
  connection->since = clock_.now();
  ++stats_.connections;
  if (!adopted) ++pending_;
  connections_.emplace(endpoint.connection, std::move(connection));
  connections_.at(endpoint.connection)->start();
  receiver_->on_endpoint_up(endpoint);
  notify_resume();
}

bool TcpTransport::pending_full() const {
  return pending_ >= options_.max_pending;
}

// Connections are numbered in order of arrival: the first pending one in the map is the
// oldest. Only scanned while the cap is reached.
static TcpConnection* first_pending(
    const std::map<std::uint64_t, std::unique_ptr<TcpConnection>>& connections) {
  for (const auto& [id, connection] : connections)
    if (!connection->adopted) return connection.get();
  return nullptr;
}

util::Clock::duration TcpTransport::oldest_pending_age() const {
  TcpConnection* oldest = first_pending(connections_);
  return oldest ? clock_.now() - oldest->since : util::Clock::duration{};
}

void TcpTransport::drop_oldest_pending() {
  TcpConnection* oldest = first_pending(connections_);
  if (!oldest) return;
  ++stats_.rx_refused_connections;
  complain("dropped the connection from " + oldest->name() +
           ": too many connections awaiting a handshake");
  oldest->close("too many connections awaiting a handshake");
}

// One connection fewer awaits adoption (adopted, or closed before): the server may accept
// again.
void TcpTransport::pending_done() {
  if (pending_ > 0) --pending_;
  if (!stopped_) on_pending_room();
}

void TcpTransport::close(const Endpoint& endpoint, const std::string& reason) {
  before_send();
  if (TcpConnection* connection = find(endpoint)) connection->close(reason);
}

void TcpTransport::adopt(const Endpoint& endpoint) {
  TcpConnection* connection = find(endpoint);
  if (!connection || connection->adopted) return;
  connection->adopted = true;
  pending_done();
}

void TcpTransport::set_answering(const Endpoint& endpoint, bool answering) {
  if (TcpConnection* connection = find(endpoint)) connection->answering = answering;
}

void TcpTransport::on_closed(TcpConnection& connection, const std::string& reason) {
  before_send();  // its output buffer goes with it
  retire(connection.endpoint().connection);
  if (stopped_) return;
  if (!connection.adopted) pending_done();
  receiver_->on_endpoint_down(connection.endpoint(), reason);
  // A waiting engine is resumed whenever the picture changes (then it drains the device
  // itself rather than wait on a dead socket).
  notify_resume();
  on_connection_closed(connection, reason);
}

// Out of the set at once; destroyed from a posted handler (it may be on the call stack).
void TcpTransport::retire(std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  if (last_ == it->second.get()) last_ = nullptr;
  std::erase(dirty_, id);
  retired_.push_back(std::move(it->second));
  connections_.erase(it);
  if (retired_.size() == 1) asio::post(io_, life_.guard([this] { retired_.clear(); }));
}

// ---- receiving ----------------------------------------------------------------------------

void TcpTransport::on_frame(TcpConnection& connection, util::ByteSpan frame) {
  if (stopped_) return;
  ++connection.rx_messages;
  ++stats_.rx_messages;
  stats_.rx_bytes += frame.size();
  receiver_->on_message(connection.endpoint(), frame);
}

// ---- sending ------------------------------------------------------------------------------

bool TcpTransport::writable(const Endpoint& to) const {
  const TcpConnection* connection = find(to);
  return connection && connection->writable();
}

util::ByteSpan TcpTransport::message_slot(const Endpoint& to) {
  TcpConnection* connection = find(to);
  return connection ? connection->message_slot() : util::ByteSpan{};
}

bool TcpTransport::commit(const Endpoint& to, std::size_t size) {
  TcpConnection* connection = find(to);
  if (!connection || !connection->commit_message(size)) {
    ++stats_.tx_dropped;
    return false;
  }
  ++stats_.tx_messages;
  stats_.tx_bytes += size;
  if (dirty_.empty() || dirty_.back() != to.connection) dirty_.push_back(to.connection);
  return true;
}

// One send per connection with committed messages. A failing send closes its connection
// (the Receiver hears of it at once), so the list is taken first.
void TcpTransport::flush() {
  before_send();
  // Swapped, not moved: both vectors keep their capacity (no allocation per batch), and a
  // flush that ends in a close() may mark connections dirty again meanwhile.
  flushing_.clear();
  flushing_.swap(dirty_);
  for (std::uint64_t id : flushing_) {
    auto it = connections_.find(id);
    if (it != connections_.end()) it->second->flush();
  }
}

bool TcpTransport::send_control(const Endpoint& to, util::ConstByteSpan message) {
  before_send();
  TcpConnection* connection = find(to);
  if (!connection) return false;
  std::erase(dirty_, to.connection);  // send_message() flushes what was committed before it
  if (!connection->send_message(message)) return false;
  ++stats_.tx_messages;
  stats_.tx_bytes += message.size();
  return true;
}

void TcpTransport::notify_resume() {
  if (!resume_) return;
  auto resume = std::move(resume_);
  resume_ = nullptr;
  resume();
}

// ---- timers and logs ----------------------------------------------------------------------

void TcpTransport::run_timers() {
  expire_pending();
  for (const auto& [id, connection] : connections_) connection->release_if_idle();
  util::report_suppressed(log_, complaints_, util::LogLevel::warn, "refused input");
  util::report_suppressed(log_, connection_log_, util::LogLevel::info, "connection events");
}

void TcpTransport::expire_pending() {
  auto now = clock_.now();
  std::vector<TcpConnection*> late;
  for (const auto& [id, connection] : connections_)
    if (!connection->adopted && now - connection->since > proto::kHandshakeDeadline)
      late.push_back(connection.get());
  for (TcpConnection* connection : late) {
    if (connection->closed()) continue;
    ++stats_.rx_refused_connections;
    complain("connection from " + connection->name() + " sent no valid handshake in time");
    connection->close("handshake timeout");
  }
}

void TcpTransport::schedule_tick() {
  timer_.expires_after(proto::kTimerTick);
  timer_.async_wait(life_.guard([this](std::error_code ec) {
    if (ec || stopped_) return;
    run_timers();
    schedule_tick();
  }));
}

void TcpTransport::complain(const std::string& what) {
  util::warn_limited(log_, complaints_, what);
}

void TcpTransport::log_connection_event(const std::string& what) {
  util::log_limited(log_, connection_log_, util::LogLevel::info, what);
}

}  // namespace tund::transport
