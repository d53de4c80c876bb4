// Helpers for tests that run real transports over loopback sockets (no root needed).
#pragma once

#include <algorithm>
#include <asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "tund/transport/transport.hpp"
#include "tund/util/backoff.hpp"

namespace tund::testing {

// Records what a transport delivers, in order. With `adopt_on_up` set it adopts each new
// endpoint at once, as the engine does in plaintext.
struct RecordingReceiver : transport::Receiver {
  struct Message {
    transport::Endpoint from;
    std::vector<std::byte> bytes;
  };
  struct Down {
    transport::Endpoint endpoint;
    std::string reason;
  };
  std::vector<Message> messages;
  std::vector<transport::Endpoint> ups;
  std::vector<Down> downs;
  std::size_t batch_ends = 0;
  transport::Transport* adopt_on_up = nullptr;
  std::function<void(const transport::Endpoint&)> on_up;  // runs after recording

  void on_message(const transport::Endpoint& from, util::ByteSpan message) override {
    messages.push_back({from, {message.begin(), message.end()}});
  }
  void on_endpoint_up(const transport::Endpoint& endpoint) override {
    ups.push_back(endpoint);
    if (adopt_on_up) adopt_on_up->adopt(endpoint);
    if (on_up) on_up(endpoint);
  }
  void on_endpoint_down(const transport::Endpoint& endpoint, const std::string& reason) override {
    downs.push_back({endpoint, reason});
  }
  void on_receive_batch_end() override { ++batch_ends; }

  // Endpoints reported up and not (yet) down.
  std::vector<transport::Endpoint> live() const {
    std::vector<transport::Endpoint> out;
    for (const auto& e : ups)
      if (std::none_of(downs.begin(), downs.end(), [&](const Down& d) { return d.endpoint == e; }))
        out.push_back(e);
    return out;
  }
  bool went_down(const transport::Endpoint& e) const {
    return std::any_of(downs.begin(), downs.end(), [&](const Down& d) { return d.endpoint == e; });
  }
  std::vector<std::vector<std::byte>> payloads() const {
    std::vector<std::vector<std::byte>> out;
    for (const auto& m : messages) out.push_back(m.bytes);
    return out;
  }
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

// Runs what is ready now (handlers already queued, sockets already readable), nothing later.
inline void run_ready(asio::io_context& io) {
  io.restart();
  for (int i = 0; i < 20; ++i) io.poll();
}

// Writes one message into a transport's zero-copy slot and commits it (no flush).
inline void commit_message(transport::Transport& t, const transport::Endpoint& to,
                           const std::vector<std::byte>& message) {
  auto slot = t.message_slot(to);  // empty for an endpoint that is gone
  if (slot.size() >= message.size()) std::copy(message.begin(), message.end(), slot.begin());
  t.commit(to, message.size());
}

// The same, then flush: the message leaves at once.
inline void send_message(transport::Transport& t, const transport::Endpoint& to,
                         const std::vector<std::byte>& message) {
  commit_message(t, to, message);
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
