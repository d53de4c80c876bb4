// One established TCP connection carrying length-prefixed frames (u16 length + payload).
// Reads many frames per recv into the decoder's buffer and hands each to its owner;
// writes many committed messages per send from one contiguous output buffer, with a
// high-water mark for backpressure. It knows nothing of what the frames contain.
#pragma once

#include <asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tund/proto/frame_codec.hpp"
#include "tund/transport/transport.hpp"
#include "tund/util/log.hpp"

namespace tund::transport {

struct TcpLinkContext {
  std::size_t max_message;  // largest acceptable frame payload on the wire (bytes)
  TransportStats* stats;
  util::Logger* log;
  util::LogLimiter* wire_complaints;  // shared, so a reconnecting attacker cannot reset it
};

class TcpLink : public std::enable_shared_from_this<TcpLink> {
 public:
  using FrameHandler = std::function<void(TcpLink&, util::ByteSpan frame)>;
  using ClosedHandler = std::function<void(TcpLink&, const std::string& reason)>;
  using DrainedHandler = std::function<void()>;

  TcpLink(asio::ip::tcp::socket socket, std::string peer_name, TcpLinkContext context,
          FrameHandler on_frame, ClosedHandler on_closed, DrainedHandler on_drained);

  void start();
  // Closes the socket; on_closed runs unless `notify` is false. Idempotent.
  void close(const std::string& reason, bool notify = true);
  bool closed() const { return closed_; }

  const std::string& peer_name() const { return peer_name_; }
  std::string peer_address() const;
  bool writable() const;
  // Where the next message goes (behind its length prefix), and a frame slot `offset`
  // bytes into it; commit_message() then frames `size` bytes from message_start().
  std::byte* message_start();
  util::ByteSpan tx_slot(std::size_t offset);
  void commit_message(std::size_t size);
  // Whether a message of `size` bytes still fits behind what is queued.
  bool has_room(std::size_t size) const;
  // Copies a small control message (handshake) in and flushes; false if no room.
  bool send_message(const std::byte* data, std::size_t size);
  void flush();

 private:
  void read_more();
  void on_read(std::size_t n);
  bool handle_decoded(const proto::DecodeResult& result);
  void complain(const std::string& what);
  void wait_writable();

  asio::ip::tcp::socket socket_;
  std::string peer_name_;
  TcpLinkContext ctx_;
  FrameHandler on_frame_;
  ClosedHandler on_closed_;
  DrainedHandler on_drained_;
  proto::FrameDecoder decoder_;
  std::vector<std::byte> out_;
  std::size_t out_begin_ = 0, out_end_ = 0;
  bool write_waiting_ = false;
  bool closed_ = false;
};

// Sets TCP_NODELAY (frames are coalesced by tund itself, so Nagle only adds latency) and
// short keepalive timers so a silently dead peer is noticed in about 25 s.
void configure_tunnel_socket(asio::ip::tcp::socket& socket);

}  // namespace tund::transport
