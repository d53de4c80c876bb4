#include "tund/daemon/signals.hpp"

#include <csignal>

namespace tund::daemon {
namespace {

sigset_t daemon_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) sigaddset(&set, s);
  return set;
}

}  // namespace

void block_daemon_signals() {
  sigset_t set = daemon_signals();
  sigprocmask(SIG_BLOCK, &set, nullptr);
}

SignalDispatcher::SignalDispatcher(asio::io_context& io, Handler on_stop, Handler on_reload,
                                   Handler on_report)
    : set_(io, SIGINT, SIGTERM, SIGHUP),
      on_stop_(std::move(on_stop)),
      on_reload_(std::move(on_reload)),
      on_report_(std::move(on_report)) {
  set_.add(SIGUSR1);
  wait();
  // Handlers are in place: what arrived while the signals were blocked is delivered now.
  sigset_t set = daemon_signals();
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

SignalDispatcher::~SignalDispatcher() {
  // Until the process ends, a late signal must still not kill it by its default action.
  block_daemon_signals();
}

void SignalDispatcher::wait() {
  set_.async_wait([this](std::error_code ec, int signal) {
    if (ec) return;
    wait();
    if (signal == SIGHUP) return on_reload_(signal);
    if (signal == SIGUSR1) return on_report_(signal);
    if (stop_signal_ == 0) stop_signal_ = signal;
    on_stop_(signal);
  });
}

const char* signal_name(int signal) {
  switch (signal) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    case SIGUSR1:
      return "SIGUSR1";
  }
  return "a signal";
}

}  // namespace tund::daemon
