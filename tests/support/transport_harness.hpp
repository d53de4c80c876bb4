// Helpers for tests that run real transports over loopback sockets (no root needed).
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <vector>

#include "tund/transport/transport.hpp"
#include "tund/util/backoff.hpp"

namespace tund::testing {

// Records what a transport delivers.
struct RecordingSink : transport::FrameSink {
  std::vector<std::vector<std::byte>> frames;
  std::vector<bool> states;
  void on_frame(util::ConstByteSpan f) override { frames.emplace_back(f.begin(), f.end()); }
  void on_peer_state(bool up) override { states.push_back(up); }
  bool up() const { return !states.empty() && states.back(); }
};

// Runs the io_context until `done` holds or `timeout` passes; returns whether it held.
// `done` is evaluated exactly once per round (it may consume data).
inline bool run_until(asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  io.restart();
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.run_for(std::chrono::milliseconds(5));
  }
}

// Sends one frame through a transport's zero-copy slot.
inline void send_frame(transport::Transport& t, const std::vector<std::byte>& frame) {
  auto slot = t.tx_slot();
  std::copy(frame.begin(), frame.end(), slot.begin());
  t.commit(frame.size());
  t.flush();
}

inline util::Backoff fast_backoff() {
  return util::Backoff(std::chrono::milliseconds(20), std::chrono::milliseconds(100),
                       [] { return 0.0; });
}

inline std::vector<std::byte> frame_of(std::size_t n, unsigned fill) {
  std::vector<std::byte> f(n, std::byte(fill));
  f[0] = std::byte{0x45};
  return f;
}

}  // namespace tund::testing
