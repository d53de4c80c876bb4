// The daemon's phases, each in a file of its own: start-up (checks before any side effect,
// the server's name, building the pieces, --up, the switch to --user) in startup.cpp, the
// event loop and the shutdown in lifecycle.cpp. Private to the daemon module.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tund/config/config.hpp"
#include "tund/control/status.hpp"
#include "tund/crypto/identity.hpp"
#include "tund/daemon/control_server.hpp"
#include "tund/daemon/hub_routes.hpp"
#include "tund/daemon/key_reload.hpp"
#include "tund/daemon/metrics_server.hpp"
#include "tund/daemon/peer_hooks.hpp"
#include "tund/daemon/privileges.hpp"
#include "tund/daemon/signals.hpp"
#include "tund/daemon/systemd_notify.hpp"
#include "tund/device/tun_device.hpp"
#include "tund/link/responder.hpp"
#include "tund/transport/endpoints.hpp"
#include "tund/transport/transport.hpp"
#include "tund/tunnel/engine.hpp"
#include "tund/util/idle_cpus.hpp"
#include "tund/util/log.hpp"
#include "tund/util/worker_pool.hpp"

namespace tund::daemon {

struct StatusTime;  // status_snapshot.cpp

class Daemon {
 public:
  Daemon(const config::Config& config, std::vector<std::string> args);
  int run();
  // status_snapshot.cpp. On the event-loop thread (copies counters; O(peers)).
  control::InterfaceStatus status() const;
  // From another thread (the metrics server): taken on the event loop, waited for at most
  // `timeout`; nullopt on timeout, or when the loop does not run (start-up, shutdown).
  std::optional<control::InterfaceStatus> status_from_any_thread(std::chrono::milliseconds timeout);

 private:
  enum class Ending { none, signal, device_failed, internal_error };

  // startup.cpp; each returns the exit status when tund must end there.
  std::optional<int> start();
  std::optional<int> check_before_start();
  void load_hub_peers();
  std::optional<int> resolve_server();
  std::optional<int> build();
  std::optional<int> run_up_hook();
  std::optional<int> become_user();
  std::optional<int> start_control();
  std::optional<int> start_metrics();
  ControlHandlers control_handlers();
  std::string disconnect(const std::string& peer);
  // lifecycle.cpp
  void serve();
  void run_loop();
  void wire_engine();
  tunnel::EngineParts engine_parts();
  void start_workers();
  void feed_watchdog();
  void refresh_status_line();
  void tick_engine();
  void gate_workers();
  void on_stop_signal(int signal);
  void on_device_failure(const std::string& why);
  int shut_down();
  void run_down_hook();
  void report();
  // status_snapshot.cpp
  const config::Config& running_config() const;
  void add_interface_counters(control::InterfaceStatus& out) const;
  control::PeerStatus one_peer(const StatusTime& time) const;
  void add_hub_peers(control::InterfaceStatus& out, const StatusTime& time) const;
  // hub_reload.cpp
  void on_sighup();
  std::string reload(const std::string& cause);
  std::string reload_hub(const std::string& cause);
  config::Config reread_config();
  void report_hub_peers();
  // hub_peer_events.cpp
  void on_hub_peer(const tunnel::Peer& peer, bool up);
  void run_peer_down_hooks();
  const config::PeerSpec* peer_file(const std::string& name) const;
  std::vector<std::string> peer_hook_environment(const tunnel::Peer& peer,
                                                 const config::PeerSpec& file,
                                                 const std::string& endpoint) const;
  void sync_routes(const config::Config& cfg, const std::vector<tunnel::HubPeerSpec>& peers);
  // Runs handlers until `done()` or a stop signal; false when a stop signal ended it.
  template <class Done>
  bool pump_until(Done done);
  bool stop_pending();

  const config::Config& cfg_;
  std::int64_t started_ = 0;               // Unix seconds
  std::atomic<bool> serving_{false};       // the event loop runs: status_from_any_thread may ask
  std::vector<std::string> args_;          // the command line, re-parsed on a hub reload
  std::optional<config::Config> hub_cfg_;  // hub: the configuration last applied
  std::vector<tunnel::HubPeerSpec> hub_peers_;  // hub: the peers at start
  util::Logger log_;
  asio::io_context io_{1};  // one thread: no locks anywhere on the data path
  SignalDispatcher signals_;
  KeyReloader reloader_;
  SystemdNotifier notifier_;
  std::optional<Account> account_;
  std::optional<KeyMaterial> keys_;
  transport::RemoteServer remote_;
  std::unique_ptr<crypto::Identity> identity_;  // encrypted mode
  // Refused input from the network, whether the transport or the engine refused it: one
  // budget of log lines, as when one class did both.
  util::LogLimiter wire_complaints_;
  std::unique_ptr<device::TunDevice> dev_;
  std::unique_ptr<link::Responder> responder_;
  std::unique_ptr<transport::Transport> net_;
  // Encrypted, --threads above 1: the threads that seal and open each batch's frames
  // with the event loop's (tunnel/engine_batch.cpp). Before the engine, which uses it.
  std::unique_ptr<util::WorkerPool> workers_;
  util::IdleCpuMeter idle_cpus_;  // gate_workers: is a CPU free for the helpers?
  std::chrono::nanoseconds helpers_cpu_{0};
  std::chrono::steady_clock::time_point gated_at_{};
  bool always_share_ = false;  // TUND_TEST_WORKERS_SHARE=always: no gate (benchmarks)
  std::unique_ptr<tunnel::Engine> engine_;
  HubRoutes routes_{log_};  // hub: routes = auto
  PeerHooks peer_hooks_{io_, log_,
                        [this] { return signals_.stop_requested() || ending_ != Ending::none; }};
  std::map<std::string, std::string> peer_endpoints_;  // hub: a peer's last endpoint
  asio::steady_timer watchdog_{io_};
  asio::steady_timer engine_tick_{io_};        // the peers' timers (proto::kTimerTick)
  std::unique_ptr<ControlServer> control_;     // none: it could not be made at the default path
  asio::steady_timer status_line_timer_{io_};  // systemd STATUS=, checked each second
  std::string status_line_;                    // the one last sent
  bool device_set_up_ = false;                 // --up ran (or was due): --down runs at the end
  bool engine_stopped_ = true;
  Ending ending_ = Ending::none;
  // --metrics-listen. Last, so it is destroyed first: its threads ask this daemon for a
  // status (status_from_any_thread) until they are joined.
  std::unique_ptr<MetricsServer> metrics_;
};

template <class Done>
bool Daemon::pump_until(Done done) {
  while (!done()) {
    if (signals_.stop_requested()) return false;
    if (io_.stopped()) io_.restart();
    io_.run_one();
  }
  return true;
}

}  // namespace tund::daemon
