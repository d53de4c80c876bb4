// Two in-memory transports wired to each other: what one commits, the other's sink
// receives (asynchronously, through the io_context, as a socket would deliver it).
// Tests can close the "socket" (set_writable(false)) to exercise backpressure.
#pragma once

#include <algorithm>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <vector>

#include "tund/transport/transport.hpp"

namespace tund::testing {

class LoopbackTransport final : public transport::Transport {
 public:
  // A 64 KiB slot, like the real transports: a device read is never truncated.
  LoopbackTransport(asio::io_context& io, std::size_t max_frame)
      : io_(io), slot_(std::max<std::size_t>(max_frame, 65535)) {}

  static void connect(LoopbackTransport& a, LoopbackTransport& b) {
    a.peer_ = &b;
    b.peer_ = &a;
  }

  void start(transport::FrameSink& sink) override {
    sink_ = &sink;
    sink_->on_peer_state(up_);
  }
  void stop() override { sink_ = nullptr; }
  bool peer_up() const override { return up_; }
  bool writable() const override {
    return up_ && writable_ && (high_water_ == 0 || commits_since_flush_ < high_water_);
  }
  void when_writable(std::function<void()> resume) override { resume_ = std::move(resume); }
  util::ByteSpan tx_slot() override { return slot_; }
  void commit(std::size_t size) override {
    ++stats_.tx_frames;
    stats_.tx_bytes += size;
    std::vector<std::byte> frame(slot_.begin(), slot_.begin() + static_cast<long>(size));
    ++commits_since_flush_;
    asio::post(io_, [peer = peer_, frame = std::move(frame)] { peer->deliver(frame); });
  }
  // Like a socket with room in its kernel buffer: a flush drains everything at once.
  void flush() override {
    ++flushes_;
    commits_since_flush_ = 0;
  }
  const transport::TransportStats& stats() const override { return stats_; }

  // Test side.
  void set_writable(bool writable) {
    writable_ = writable;
    if (writable && resume_) std::exchange(resume_, nullptr)();
  }
  void set_up(bool up) {
    up_ = up;
    if (sink_) sink_->on_peer_state(up);
    if (resume_) std::exchange(resume_, nullptr)();
  }
  // Not writable once `frames` are committed without a flush (a TCP link over its
  // high-water mark); 0 = never.
  void set_high_water(std::size_t frames) { high_water_ = frames; }
  bool waiting_for_writable() const { return static_cast<bool>(resume_); }
  std::size_t flushes() const { return flushes_; }
  // Deliver raw bytes as if they arrived from the peer.
  void deliver(const std::vector<std::byte>& frame) {
    ++stats_.rx_frames;
    if (sink_) sink_->on_frame(frame);
  }

 private:
  asio::io_context& io_;
  LoopbackTransport* peer_ = nullptr;
  transport::FrameSink* sink_ = nullptr;
  std::vector<std::byte> slot_;
  transport::TransportStats stats_;
  std::function<void()> resume_;
  bool up_ = true, writable_ = true;
  std::size_t flushes_ = 0, commits_since_flush_ = 0, high_water_ = 0;
};

}  // namespace tund::testing
