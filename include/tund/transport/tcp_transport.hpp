// What the TCP client and server share: one current TcpLink that the Transport interface
// delegates to. Subclasses decide how links come about (connect with backoff / accept).
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <memory>

#include "tund/transport/tcp_link.hpp"
#include "tund/transport/transport.hpp"
#include "tund/util/log.hpp"

namespace tund::transport {

class TcpTransport : public Transport {
 public:
  TcpTransport(asio::io_context& io, std::size_t max_frame, util::Logger& log);

  void start(FrameSink& sink) override;
  void stop() override;
  bool peer_up() const override { return link_ != nullptr; }
  bool writable() const override { return link_ && link_->writable(); }
  void when_writable(std::function<void()> resume) override { resume_ = std::move(resume); }
  util::ByteSpan tx_slot() override { return link_->tx_slot(); }
  void commit(std::size_t size) override { link_->commit(size); }
  void flush() override {
    if (link_) link_->flush();
  }
  const TransportStats& stats() const override { return stats_; }

 protected:
  virtual void begin() = 0;
  virtual void end() = 0;
  // Called after the current link closed (by the peer or an error), with the reason.
  virtual void on_link_closed(const std::string& peer, const std::string& reason) = 0;

  // Makes `socket` the current link, replacing (and closing) any previous one.
  void adopt(asio::ip::tcp::socket socket, const std::string& peer_name);
  void drop_link(const std::string& reason);
  bool stopped() const { return stopped_; }

  asio::io_context& io_;
  util::Logger& log_;
  TransportStats stats_;

 private:
  void notify_resume();

  std::size_t max_frame_;
  FrameSink* sink_ = nullptr;
  std::shared_ptr<TcpLink> link_;
  std::function<void()> resume_;
  util::LogLimiter wire_complaints_;
  bool stopped_ = false;
};

}  // namespace tund::transport
