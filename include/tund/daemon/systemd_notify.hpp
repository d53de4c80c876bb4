// The sd_notify protocol, implemented directly (one datagram to $NOTIFY_SOCKET) rather than
// linking libsystemd for four messages: READY=1 once the tunnel is usable, STATUS= lines,
// WATCHDOG=1 keep-alives when the unit sets WatchdogSec=, STOPPING=1 at shutdown. Without
// NOTIFY_SOCKET (not under systemd) every call does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace tund::daemon {

class SystemdNotifier {
 public:
  SystemdNotifier();  // reads NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID
  ~SystemdNotifier();
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  bool enabled() const { return fd_ >= 0; }
  // READY=1 was sent (the service is up as systemd sees it).
  bool ready_sent() const { return ready_sent_; }
  // How often to send WATCHDOG=1 (half the configured interval), if the watchdog is on.
  std::optional<std::chrono::microseconds> watchdog_period() const { return watchdog_; }

  void ready(const std::string& status);  // READY=1 (once) + STATUS=
  void status(const std::string& status);
  void watchdog();
  void stopping();
  // A reload (SIGHUP) starts and ends: RELOADING=1 with MONOTONIC_USEC (sd_notify(3); what
  // Type=notify-reload expects), then READY=1 again (only if READY=1 was sent before).
  void reloading();
  void reloaded(const std::string& status);

 private:
  void send(const std::string& message);

  int fd_ = -1;
  std::string path_;
  bool ready_sent_ = false;
  std::optional<std::chrono::microseconds> watchdog_;
};

}  // namespace tund::daemon
