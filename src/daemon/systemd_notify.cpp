#include "tund/daemon/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace tund::daemon {

SystemdNotifier::SystemdNotifier() {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path && (path[0] == '/' || path[0] == '@') &&
      std::strlen(path) < sizeof(sockaddr_un{}.sun_path)) {
    path_ = path;
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  }
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  bool for_us = !pid || std::strtol(pid, nullptr, 10) == static_cast<long>(getpid());
  if (usec && for_us) {
    long long value = std::strtoll(usec, nullptr, 10);
    if (value > 0) watchdog_ = std::chrono::microseconds(value / 2);
  }
}

SystemdNotifier::~SystemdNotifier() {
  if (fd_ >= 0) ::close(fd_);
}

void SystemdNotifier::send(const std::string& message) {
  if (fd_ < 0) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  if (path_[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
  // Best effort, as sd_notify: a missing listener must not stop the tunnel.
  (void)::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL,
                 reinterpret_cast<sockaddr*>(&addr), len);
}

void SystemdNotifier::ready(const std::string& status_text) {
  if (ready_sent_) return status(status_text);
  ready_sent_ = true;
  send("READY=1\nSTATUS=" + status_text);
}

void SystemdNotifier::status(const std::string& status_text) {
  send("STATUS=" + status_text);
}
void SystemdNotifier::watchdog() {
  send("WATCHDOG=1");
}
void SystemdNotifier::reloading() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  long long usec = static_cast<long long>(now.tv_sec) * 1000000LL + now.tv_nsec / 1000;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=reloading");
}
void SystemdNotifier::reloaded(const std::string& status_text) {
  send((ready_sent_ ? "READY=1\nSTATUS=" : "STATUS=") + status_text);
}
void SystemdNotifier::stopping() {
  send("STOPPING=1\nSTATUS=shutting down");
}

}  // namespace tund::daemon
