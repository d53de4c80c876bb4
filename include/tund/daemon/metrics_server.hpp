// Prometheus metrics over HTTP (--metrics-listen ADDR:PORT, off by default): GET /metrics
// answers the text exposition format (control::render_prometheus) of a fresh status.
// Served by cpp-httplib (Debian's libcpp-httplib-dev) on threads of its own, so a slow or
// hostile scraper never runs on the event loop: the status is taken by `snapshot`, which
// the daemon answers on its event loop by copying counters (no lock on the packet path).
// Bounds: read and write timeouts (kMetricsTimeout) and a whole-connection lifetime of
// 2 * kMetricsTimeout (httplib's timeouts are per read: without it a scraper trickling one
// header byte a second would hold a thread for good); two worker threads and at most 8
// accepted connections waiting for them (more wait in the kernel's listen backlog, not in
// tund: 1000 connections at once hold at most 11 sockets, 22 descriptors with the
// deadlines' duplicates, and 4 threads); keep-alive for 5 requests or 1 s idle; a
// request body over 4 KiB or a long header refused by the library's limits; any other path is 404,
// any other method 405 (HEAD is answered as GET). The port is bound without SO_REUSEPORT (httplib's
// default), so a second tund on the same port fails to start instead of sharing the scrapes.
// Thread-safety: start() and stop() from the daemon's thread; `snapshot` is called from
// the server's threads and must be safe there (it may return nullopt: the answer is 503).
// Nothing here logs from the server's threads (the daemon's Logger is single-threaded).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tund/control/status.hpp"

namespace tund::daemon {

inline constexpr std::chrono::seconds kMetricsTimeout{5};

class MetricsServer {
 public:
  using Snapshot = std::function<std::optional<control::InterfaceStatus>()>;

  // `host`: an IP address literal (IPv4 or IPv6, no brackets); `port`: 1-65535 (0: any
  // free port, for tests; port() tells which).
  MetricsServer(std::string host, std::uint16_t port, Snapshot snapshot);
  ~MetricsServer();  // stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds and starts serving. Throws std::runtime_error with one line
  // ("--metrics-listen 127.0.0.1:9586: Address already in use").
  void start();
  // Stops accepting, shuts down every open connection and ends the server's threads
  // (waits for them; promptly, whatever the clients do). Idempotent.
  void stop();
  // Scrapes answered (200) so far; safe from any thread.
  std::uint64_t scrapes() const;
  // The port bound (after start()), or the one given.
  std::uint16_t port() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tund::daemon
