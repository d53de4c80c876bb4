// `tund_swarm run`: N swarm clients in one event loop, their timers, their own pings,
// and the report. Lines on standard output (flushed, for scripts to wait on):
//   swarm: starting N clients (udp|tcp) to HOST:PORT
//   swarm: all N clients have a session after T ms      (once, when the last comes up)
//   swarm: t=S up U/N handshakes H rx R tx T answered A pings SENT/REPLIED rtt AVG/MAX ms
//          not-answered X queue-drops Q                 (every --interval, and at exit)
//   swarm: NAME up|down ENDPOINT rx R tx T answered A pings SENT/REPLIED   (SIGUSR1)
//   swarm: stopping (SIGTERM|SIGINT|time is up)
// Exit status: 0; with --check, 1 unless every client had a session at the end (and,
// with --ping, every client had a reply); 2 for bad options or key files.
#pragma once

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "swarm/swarm_client.hpp"
#include "swarm/swarm_keys.hpp"

namespace tund::swarm {

struct RunOptions {
  SwarmSettings settings;
  std::vector<ClientSpec> clients;
  std::optional<link::Ipv4> ping;  // every client pings this address
  std::chrono::milliseconds ping_interval{1000};
  std::chrono::milliseconds report_interval{5000};
  std::chrono::milliseconds exit_after{0};  // 0: until a signal
  double start_rate = 0;                    // clients started per second (0: all at once)
  bool check = false;
};

class Swarm {
 public:
  Swarm(asio::io_context& io, RunOptions options);
  // Runs until a stop signal or exit_after; returns the exit status.
  int run();

 private:
  using Time = std::chrono::steady_clock::time_point;
  void start_next();
  void on_state();
  void tick();
  void ping_some();
  std::chrono::milliseconds ping_step() const;
  void report();
  void report_each();
  void stop(const std::string& why);
  bool all_answered_pings() const;
  void schedule(asio::steady_timer& timer, std::chrono::milliseconds after, void (Swarm::*what)());

  asio::io_context& io_;
  RunOptions options_;
  std::vector<std::unique_ptr<SwarmClient>> clients_;
  asio::signal_set stop_signals_, usr1_;
  asio::steady_timer tick_timer_, ping_timer_, report_timer_, start_timer_, exit_timer_;
  Time started_{};
  std::size_t started_count_ = 0;  // clients started so far
  std::size_t up_ = 0;
  static constexpr std::size_t kPingSlots = 100;
  std::size_t ping_slot_ = 0;  // the clients pinging next: index % slots == ping_slot_
  bool all_up_reported_ = false;
  bool stopping_ = false;
  bool healthy_at_stop_ = false;  // --check: all up (and answered) when the stop came
};

}  // namespace tund::swarm
