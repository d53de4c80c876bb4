// One TCP connection of a TcpTransport, carrying length-prefixed frames (u16 length +
// payload, proto/frame_codec.hpp). It knows nothing of what the frames contain. Private to
// transport/.
//
// Memory (a hub holds a thousand of these): nothing large is allocated at accept.
// - Receive: many frames per recv, into the owner's one shared receive buffer (reads are
//   readiness waits plus a non-blocking recv, so no buffer is held while waiting); only
//   an incomplete frame at the end of a read is kept here (`partial_`, at most one frame).
// - Send: many committed messages per send from one contiguous output buffer with a
//   high-water mark for backpressure, mapped when the first message is written
//   (page_buffer.hpp). A control message with nothing queued goes straight to the socket.
// - release_if_idle() (the owner's timer tick) gives both back once the connection had no
//   traffic for a whole tick, so an idle peer costs its socket and this object only,
//   while a busy one never allocates per packet.
//
// util::Lifetime (lifetime.hpp): the owning transport holds it by unique_ptr and outlives it;
// its handlers are guarded, so a connection destroyed with a read or write pending is
// never touched again.
#pragma once

#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "page_buffer.hpp"
#include "tund/proto/frame_codec.hpp"
#include "tund/transport/transport.hpp"
#include "tund/util/clock.hpp"
#include "tund/util/lifetime.hpp"

namespace tund::transport {

class TcpConnection {
 public:
  // What a connection reports to the transport that owns it. Each call may close this
  // connection (the Receiver decides); none destroys it.
  class Owner {
   public:
    virtual void on_frame(TcpConnection& connection, util::ByteSpan frame) = 0;
    virtual void on_read_done() = 0;  // after the frames of one recv
    virtual void on_closed(TcpConnection& connection, const std::string& reason) = 0;
    virtual void on_drained() = 0;  // writable again after the kernel buffer was full
    virtual TransportStats& wire_stats() = 0;
    // Where every connection of this owner reads into (one read at a time, on the
    // io_context's thread): at least kMaxMessage + the prefix, plus room for new bytes.
    virtual util::ByteSpan receive_buffer() = 0;
    virtual void complain(const std::string& what) = 0;

   protected:
    ~Owner() = default;
  };

  // `socket` is connected; `endpoint` names it (remote address, port, serial number).
  TcpConnection(asio::ip::tcp::socket socket, const Endpoint& endpoint, Owner& owner);

  void start();
  // Closes the socket; the owner's on_closed runs unless `notify` is false. Idempotent.
  void close(const std::string& reason, bool notify = true);
  bool closed() const { return closed_; }

  const Endpoint& endpoint() const { return endpoint_; }
  const std::string& name() const { return name_; }  // "198.18.0.2:40000", for logs

  bool writable() const;
  // Where the next message goes (behind its length prefix): kMessageSlot bytes.
  util::ByteSpan message_slot();
  // Frames the `size` bytes written at message_slot(); false (nothing queued) if `size`
  // is 0, larger than the prefix can carry, or the buffer is closed.
  bool commit_message(std::size_t size);
  // Copies a small control message in and flushes; false if it does not fit.
  bool send_message(util::ConstByteSpan message);
  void flush();
  // Gives the buffers back if there was no traffic since the previous call (a partial
  // frame that waits for its rest is kept, at its size). Returns whether it was idle.
  bool release_if_idle();
  // Bytes held by this connection's buffers (mapped output, partial frame): for tests and
  // the memory bench.
  std::size_t buffered_capacity() const { return out_.size() + partial_.capacity(); }

  // The transport's bookkeeping about this connection.
  bool adopted = false;    // belongs to a peer: not subject to the pending cap/deadline
  bool answering = false;  // set_answering(): the peer behind it answered
  std::uint64_t rx_messages = 0;
  util::Clock::time_point since{};  // when it was made or accepted

 private:
  void read_more();
  void on_readable();
  void on_read_error(const std::error_code& ec);
  void deliver(util::ByteSpan data);
  void complain(const std::string& what);
  bool has_room(std::size_t size) const;
  bool ensure_output() const;
  bool send_direct(util::ConstByteSpan message);
  void wait_writable();

  asio::ip::tcp::socket socket_;
  Endpoint endpoint_;
  std::string name_;
  Owner& owner_;
  std::vector<std::byte> partial_;  // an incomplete frame (with its prefix) between reads
  mutable PageBuffer out_;          // mapped on first use (writable() may map it)
  std::size_t out_begin_ = 0, out_end_ = 0;
  bool active_ = false;  // traffic since the last release_if_idle()
  bool write_waiting_ = false;
  bool closed_ = false;
  util::Lifetime life_;
};

// Sets TCP_NODELAY (frames are coalesced by tund itself, so Nagle only adds latency) and
// short keepalive timers so a silently dead peer is noticed in about 25 s.
void configure_tunnel_socket(asio::ip::tcp::socket& socket);

}  // namespace tund::transport
