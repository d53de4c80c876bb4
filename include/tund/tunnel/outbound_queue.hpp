// A hub peer's bounded outbound queue: frames routed to a peer whose endpoint cannot take
// them now (its TCP connection's buffer is full) wait here, so one slow or stalled client
// drops its own packets (counted) and never stops the device reads or the other peers.
// Frames are copies (the device buffer is reused at once); memory is held only while the
// peer is backlogged.
#pragma once

#include <cstddef>
#include <deque>
#include <vector>

#include "tund/proto/timers.hpp"
#include "tund/util/bytes.hpp"

namespace tund::tunnel {

class OutboundQueue {
 public:
  explicit OutboundQueue(std::size_t capacity = proto::kPeerQueuePackets) : capacity_(capacity) {}

  // False, keeping nothing, when `capacity` frames are waiting already.
  bool push(util::ConstByteSpan frame) {
    if (frames_.size() >= capacity_) return false;
    frames_.emplace_back(frame.begin(), frame.end());
    return true;
  }
  bool empty() const { return frames_.empty(); }
  std::size_t size() const { return frames_.size(); }
  util::ConstByteSpan front() const { return frames_.front(); }
  void pop() { frames_.pop_front(); }
  // Returns how many frames were discarded; the deque's memory is given back.
  std::size_t clear() {
    std::size_t n = frames_.size();
    std::deque<std::vector<std::byte>>().swap(frames_);
    return n;
  }

 private:
  std::size_t capacity_;
  std::deque<std::vector<std::byte>> frames_;
};

}  // namespace tund::tunnel
