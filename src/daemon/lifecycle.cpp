// The running tunnel and its end. The loop ends for one of three reasons: a stop signal
// (exit 0), the device failing under the engine (exit 1, so Restart=on-failure brings tund
// back), or an exception escaping a handler (logged as an internal error, exit 1: never
// std::terminate). Each way out runs --down with the device's current name and MTU.
#include <cstdlib>

#include "daemon_impl.hpp"
#include "tund/control/render.hpp"
#include "tund/daemon/hooks.hpp"
#include "tund/daemon/stats_report.hpp"
#include "tund/proto/timers.hpp"

namespace tund::daemon {
namespace {

// A --down hook that hangs must not hang tund's exit (systemd would SIGKILL us and the
// rest of the cleanup would be lost). Tests shorten it.
std::chrono::milliseconds down_hook_timeout() {
  if (const char* s = std::getenv("TUND_TEST_DOWN_HOOK_SECONDS"))
    return std::chrono::seconds(std::max(1, std::atoi(s)));
  return std::chrono::seconds(30);
}

}  // namespace

void Daemon::serve() {
  engine_ = std::make_unique<tunnel::Engine>(engine_parts());
  wire_engine();
  if (notifier_.watchdog_period()) feed_watchdog();
  if (signals_.stop_requested()) {
    ending_ = Ending::signal;
    return;
  }
  engine_->start();
  engine_stopped_ = false;
  tick_engine();
  if (cfg_.role == config::Role::server)
    notifier_.ready("listening on port " + std::to_string(cfg_.port));
  if (notifier_.enabled()) refresh_status_line();
  serving_ = true;
  run_loop();
  serving_ = false;
}

void Daemon::wire_engine() {
  bool server = cfg_.role == config::Role::server;
  engine_->set_peer_observer([this, server](const tunnel::Peer& peer, bool up) {
    status_line_.clear();  // the line below is sent now; the summary follows at the next check
    if (engine_->hub()) return on_hub_peer(peer, up);
    // A client is ready once the tunnel carries traffic; a server once it listens.
    if (up)
      notifier_.ready(server ? "client connected" : "connected to " + cfg_.remote_host);
    else
      notifier_.status(server ? "waiting for a client" : "reconnecting to " + cfg_.remote_host);
  });
  engine_->set_failure_handler([this](const std::string& why) { on_device_failure(why); });
  reloader_.on_sessions_changed([this](auto peer_public) { engine_->keys_changed(peer_public); });
}

// WATCHDOG=1 only while the loop runs this timer and the engine can still do its job.
void Daemon::feed_watchdog() {
  if (ending_ == Ending::none && engine_->healthy()) notifier_.watchdog();
  watchdog_.expires_after(*notifier_.watchdog_period());
  watchdog_.async_wait([this](std::error_code ec) {
    if (!ec) feed_watchdog();
  });
}

// systemd's STATUS=: the one-line summary (control::status_line), sent when it changed;
// checked each second, not per packet; also before READY=1 (a client that never reached
// its server says so: "waiting for the server at HOST:PORT").
void Daemon::refresh_status_line() {
  if (ending_ != Ending::none || engine_stopped_) return;
  std::string line = control::status_line(status());
  if (line != status_line_) notifier_.status(line);
  status_line_ = std::move(line);
  status_line_timer_.expires_after(std::chrono::seconds(1));
  status_line_timer_.async_wait([this](std::error_code ec) {
    if (!ec) refresh_status_line();
  });
}

void Daemon::tick_engine() {
  if (engine_stopped_) return;
  engine_->on_timer();
  if (workers_) gate_workers();
  if (cfg_.hub()) routes_.retry(dev_->name());  // routes refused while the device was down
  engine_tick_.expires_after(proto::kTimerTick);
  engine_tick_.async_wait([this](std::error_code ec) {
    if (!ec) tick_engine();
  });
}

// The helpers only help while a CPU is free for them. With every CPU busy (both ends of a
// tunnel and their traffic on one small machine, a loaded host) a batch handed over waits
// for a CPU and costs more than it saves: measured on 2 cores, 20-40% more CPU per GB and
// less throughput. Free: the CPUs idle since the last tick, plus what the helpers used
// meanwhile (they would give it back); a helper needs a whole CPU free
// (with half of one it only trades places with the other end of the tunnel or iperf3).
constexpr double kFreeCpuForHelpers = 1.0;

void Daemon::gate_workers() {
  if (always_share_) return;
  auto now = std::chrono::steady_clock::now();
  auto helpers = workers_->helpers_cpu_time();
  std::optional<double> idle = idle_cpus_.sample();
  double elapsed = std::chrono::duration<double>(now - gated_at_).count();
  double helping = std::chrono::duration<double>(helpers - helpers_cpu_).count();
  gated_at_ = now;
  helpers_cpu_ = helpers;
  if (!idle || elapsed <= 0) return;  // the first tick, or no /proc: as it was
  bool share = *idle + helping / elapsed >= kFreeCpuForHelpers;
  if (share != workers_->sharing())
    log_.debug("worker threads ", share ? "share" : "stop sharing", " batches (", *idle,
               " CPUs idle)");
  workers_->set_sharing(share);
}

// The last-resort safety net: nothing thrown in a handler may reach std::terminate.
void Daemon::run_loop() {
  while (ending_ == Ending::none) {
    try {
      if (io_.stopped()) io_.restart();
      io_.run();
      if (ending_ == Ending::none) throw std::logic_error("the event loop ran out of work");
    } catch (const std::exception& e) {
      log_.error("internal error: ", e.what(), "; shutting down");
      ending_ = Ending::internal_error;
    } catch (...) {
      log_.error("internal error: unknown exception; shutting down");
      ending_ = Ending::internal_error;
    }
  }
}

void Daemon::on_stop_signal(int signal) {
  if (ending_ != Ending::none)
    return log_.info("received ", signal_name(signal), " again: already shutting down");
  log_.info("received ", signal_name(signal), ", shutting down");
  if (engine_ && !engine_stopped_) ending_ = Ending::signal;
  io_.stop();
}

void Daemon::on_device_failure(const std::string& why) {
  if (ending_ != Ending::none) return;
  log_.error(why, "; shutting down (exit status 1, so that a service manager restarts tund)");
  notifier_.status("failed: " + why);
  ending_ = Ending::device_failed;
  engine_stopped_ = true;  // the engine has stopped itself
  io_.stop();
}

int Daemon::shut_down() {
  if (metrics_) metrics_->stop();  // its threads wait for this loop, which is ending
  if (control_) control_->stop();  // no more requests: the tunnel is ending
  status_line_timer_.cancel();
  if (ending_ == Ending::signal) notifier_.stopping();
  report();
  if (ending_ == Ending::internal_error && !engine_stopped_) {
    engine_->stop();  // its state is unknown: no more traffic
    engine_stopped_ = true;
  }
  // While the device still exists, so the script can remove what refers to it.
  run_peer_down_hooks();
  run_down_hook();
  if (cfg_.hub()) routes_.clear(dev_->name());
  if (!engine_stopped_) engine_->stop();
  engine_tick_.cancel();
  if (ending_ != Ending::device_failed)  // then the failure line has said what happened
    log_.info("device ", dev_->name(),
              dev_->was_persistent() ? " left in place (persistent)" : " removed");
  return ending_ == Ending::signal ? 0 : 1;
}

void Daemon::run_down_hook() {
  if (!device_set_up_ || cfg_.down_command.empty()) return;
  device_set_up_ = false;  // once
  HookLimits limits;
  limits.timeout = down_hook_timeout();
  // Computed now: the device may have been renamed or its MTU changed since start-up.
  try {
    run_hook(io_, "down", cfg_.down_command, hook_environment({&cfg_, dev_->name(), dev_->mtu()}),
             log_, limits);
  } catch (const std::exception& e) {
    log_.error("internal error while the down hook ran: ", e.what());
  }
}

void Daemon::report() {
  if (!engine_) return log_.info("received SIGUSR1 during start-up: no counters yet");
  auto crypto = engine_->crypto_stats();
  auto peers = engine_->hub() ? total_peer_stats(*engine_) : engine_->peer().stats();
  log_.info(format_stats(engine_->stats(), peers, net_->stats(), net_->datagram(),
                         identity_ ? &crypto : nullptr));
  if (engine_->hub()) report_hub_peers();
  log_.info(format_link_stats(responder_->stats()));
  if (dev_->offload_enabled())
    log_.info(format_offload_stats(dev_->offload_stats(), dev_->last_bad_read()));
}

}  // namespace tund::daemon
