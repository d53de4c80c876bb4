// Two in-memory pipes wired to each other (transport/transport.hpp), as wireguard-go's
// bindtest: what one commits or sends as a control message, the other's receiver gets
// (asynchronously, through the io_context, as a socket would deliver it), with the
// sender's endpoint. Datagram mode behaves like UDP (the client side gets its server
// endpoint at start; a server learns endpoints from messages); stream mode like TCP (both
// sides get a connection endpoint at start). Tests can stall the "socket"
// (set_writable(false)), cut the connection (set_up), drop or tamper with messages in
// flight, and look at what was sent.
#pragma once

#include <algorithm>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <functional>
#include <optional>
#include <vector>

#include "tund/transport/transport.hpp"

namespace tund::testing {

class LoopbackBind final : public transport::Transport {
 public:
  using Message = std::vector<std::byte>;
  // Returns false to drop the message (it may also change it).
  using Filter = std::function<bool(Message&)>;

  // `client`: this side reaches out (datagram: it is told its server endpoint at start).
  LoopbackBind(asio::io_context& io, bool datagram, bool client, std::uint16_t port)
      : io_(io), datagram_(datagram), client_(client) {
    local_.address = asio::ip::make_address("127.0.0.1");
    local_.port = port;
  }

  static void connect(LoopbackBind& a, LoopbackBind& b) {
    a.remote_ = &b;
    b.remote_ = &a;
  }
  // Datagram hub: many clients (distinct ports) talk to one server side; each message
  // arrives from its sender's endpoint, and the server's go to the client they name.
  static void attach(LoopbackBind& client, LoopbackBind& hub) {
    client.remote_ = &hub;
    hub.clients_.emplace_back(&client);
  }

  // ---- Transport ---------------------------------------------------------------------
  void start(transport::Receiver& receiver) override {
    receiver_ = &receiver;
    if (!datagram_ || client_) bring_up();
  }
  void stop() override {
    send_committed();
    receiver_ = nullptr;
  }
  bool datagram() const override { return datagram_; }
  bool writable(const transport::Endpoint& to) const override {
    return writable_ && known(to) && (high_water_ == 0 || commits_since_flush_ < high_water_);
  }
  // A slot per message until the flush, as the real transports' batches: the engine may
  // finish (seal) committed messages until then (Transport::set_before_send).
  util::ByteSpan message_slot(const transport::Endpoint&) override {
    if (committed_.size() == slots_.size()) slots_.emplace_back(kSlot);
    return slots_[committed_.size()];
  }
  bool commit(const transport::Endpoint& to, std::size_t size) override {
    if (refuse_in_ > 0 && --refuse_in_ == 0) {  // as a full buffer: the slot is reused
      ++stats_.tx_dropped;
      return false;
    }
    ++commits_since_flush_;
    ++stats_.tx_messages;
    stats_.tx_bytes += size;
    committed_.emplace_back(to, size);
    return true;
  }
  // Like a socket with room in its kernel buffer: a flush drains everything at once.
  void flush() override {
    ++flushes_;
    commits_since_flush_ = 0;
    send_committed();
  }
  void when_writable(std::function<void()> resume) override { resume_ = std::move(resume); }
  bool send_control(const transport::Endpoint& to, util::ConstByteSpan message) override {
    if (!writable_ || !known(to)) return false;
    send_committed();  // behind what was committed before it, as the real transports
    ++controls_sent_;
    send(to, Message(message.begin(), message.end()));
    return true;
  }
  void close(const transport::Endpoint& endpoint, const std::string& reason) override {
    send_committed();
    closed_.push_back(endpoint);
    if (receiver_) receiver_->on_endpoint_down(endpoint, reason);
  }
  void adopt(const transport::Endpoint& endpoint) override { adopted_.push_back(endpoint); }
  void set_answering(const transport::Endpoint&, bool answering) override {
    answering_ = answering;
  }
  const transport::TransportStats& stats() const override { return stats_; }

  // ---- test side ---------------------------------------------------------------------
  void set_writable(bool writable) {
    writable_ = writable;
    if (writable) resume();
  }
  // Cuts the connection (stream: on both sides) or the path (datagram: this side), or
  // brings a new one.
  void set_up(bool up) {
    if (!datagram_ && remote_) remote_->set_up_here(up);
    set_up_here(up);
  }
  void set_high_water(std::size_t messages) { high_water_ = messages; }
  // The nth commit from now (1: the next) is refused, as a transport with no room would.
  void refuse_commit(std::size_t nth) { refuse_in_ = nth; }
  // Sees (and may change or drop) every message this side sends.
  void set_filter(Filter filter) { filter_ = std::move(filter); }
  bool waiting_for_writable() const { return static_cast<bool>(resume_); }
  std::size_t flushes() const { return flushes_; }
  std::size_t controls_sent() const { return controls_sent_; }
  const std::vector<Message>& sent() const { return sent_; }
  const std::vector<transport::Endpoint>& sent_to() const { return sent_to_; }
  const std::vector<transport::Endpoint>& closed() const { return closed_; }
  const std::vector<transport::Endpoint>& adopted() const { return adopted_; }
  bool answering() const { return answering_; }
  const transport::Endpoint& local() const { return local_; }
  // Delivers messages as one socket read would (a recvmmsg batch): each to on_message,
  // then one on_receive_batch_end. They stay in place until then, as a socket's buffers.
  void deliver_batch(std::vector<Message> messages,
                     std::optional<transport::Endpoint> from = std::nullopt) {
    if (!receiver_) return;
    batch_ = std::move(messages);
    for (auto& message : batch_) {
      ++stats_.rx_messages;
      receiver_->on_message(from ? *from : from_remote(), message);
      if (!receiver_) return;
    }
    receiver_->on_receive_batch_end();
  }
  // Delivers raw bytes as if they arrived from `from` (default: the other side).
  void deliver(Message message, std::optional<transport::Endpoint> from = std::nullopt) {
    if (!receiver_) return;
    ++stats_.rx_messages;
    receiver_->on_message(from ? *from : from_remote(), message);
    if (receiver_) receiver_->on_receive_batch_end();  // a batch of one
  }

 private:
  std::vector<LoopbackBind*> clients_;  // datagram hub: the attached clients
  static constexpr std::size_t kSlot = 65535 + 64;

  void set_up_here(bool up) {
    if (up) return bring_up();
    if (receiver_ && current_) receiver_->on_endpoint_down(*current_, "cut by the test");
    current_.reset();
    resume();
  }
  void bring_up() {
    current_ = datagram_ ? remote_->local_ : transport::Endpoint{local_.address, 0, ++serial_};
    if (receiver_) receiver_->on_endpoint_up(*current_);
    resume();
  }
  void resume() {
    if (resume_) std::exchange(resume_, nullptr)();
  }
  // Datagram: any address may be written to (a server answers whoever wrote); stream:
  // only the current connection.
  bool known(const transport::Endpoint& to) const { return datagram_ || current_ == to; }
  transport::Endpoint from_remote() const {
    return datagram_ ? remote_->local_ : current_.value_or(transport::Endpoint{});
  }
  void send_committed() {
    before_send();
    for (std::size_t i = 0; i < committed_.size(); ++i) {
      auto& [to, size] = committed_[i];
      send(to, Message(slots_[i].begin(), slots_[i].begin() + static_cast<long>(size)));
    }
    committed_.clear();
  }
  void send(const transport::Endpoint& to, Message message) {
    if (filter_ && !filter_(message)) return;
    sent_.push_back(message);
    sent_to_.push_back(to);
    LoopbackBind* remote = remote_;
    for (auto* client : clients_)
      if (client->local_ == to) remote = client;
    if (!remote) return;  // a hub writing to an endpoint no client has
    std::optional<transport::Endpoint> from;
    if (datagram_ && !remote->clients_.empty()) from = local_;
    asio::post(io_, [remote, from, message = std::move(message)]() mutable {
      remote->deliver(std::move(message), from);
    });
  }

  asio::io_context& io_;
  bool datagram_, client_;
  transport::Endpoint local_;
  std::optional<transport::Endpoint> current_;
  std::uint64_t serial_ = 0;
  LoopbackBind* remote_ = nullptr;
  transport::Receiver* receiver_ = nullptr;
  std::vector<std::vector<std::byte>> slots_;
  std::vector<std::pair<transport::Endpoint, std::size_t>> committed_;
  transport::TransportStats stats_;
  std::function<void()> resume_;
  Filter filter_;
  std::vector<Message> sent_;
  std::vector<Message> batch_;  // deliver_batch's messages, until the next one
  std::vector<transport::Endpoint> closed_, adopted_, sent_to_;
  bool writable_ = true, answering_ = false;
  std::size_t flushes_ = 0, commits_since_flush_ = 0, high_water_ = 0, controls_sent_ = 0;
  std::size_t refuse_in_ = 0;
};

}  // namespace tund::testing
