// Hub mode's per-peer hooks (a peer file's `up` / `down`): run with /bin/sh -c when that
// peer's session comes up or ends, with the usual TUND_* variables plus TUND_PEER_NAME,
// TUND_PEER_KEY (base64), TUND_PEER_ENDPOINT (ADDR:PORT) and TUND_PEER_ALLOWED_IPS
// (canonical prefixes separated by spaces) — tund(8) ENVIRONMENT.
//
// Peers come and go while the tunnel runs, so hooks are queued and run one at a time from
// the event loop (run_hook() keeps the loop, and so every other peer's traffic, running
// while a hook does); each may take at most kPeerHookTimeout before its process group is
// killed, so one stuck hook delays the others by that much at most, and the queue holds
// at most kPeerHookQueue hooks (more are dropped with a log line: a thousand clients
// reconnecting at once must not queue a thousand shells behind each other unbounded).
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "tund/util/log.hpp"

namespace tund::daemon {

inline constexpr std::chrono::seconds kPeerHookTimeout{10};
inline constexpr std::size_t kPeerHookQueue = 4096;

class PeerHooks {
 public:
  // `interrupted`: polled while a hook runs; true ends it (the daemon is ending: a stop
  // signal, a failed device), and the event loop is stopped again after it.
  PeerHooks(asio::io_context& io, util::Logger& log, std::function<bool()> interrupted)
      : io_(io), log_(log), interrupted_(std::move(interrupted)) {}

  // Queues `command` ("peer alice up"), run after those queued before it.
  void run(std::string what, std::string command, std::vector<std::string> environment);
  // Queued hooks run no more (shutdown); one running now is left to its limits.
  void stop() { stopped_ = true; }

 private:
  struct Job {
    std::string what, command;
    std::vector<std::string> environment;
  };
  void drain();

  asio::io_context& io_;
  util::Logger& log_;
  std::function<bool()> interrupted_;
  std::deque<Job> queue_;
  bool running_ = false;
  bool stopped_ = false;
};

}  // namespace tund::daemon
