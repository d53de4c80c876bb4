// Signals, from the first instruction of main() to the last. SIGINT and SIGTERM ask for a
// clean stop (status 0, --down run if --up ran), SIGHUP (a closing terminal or ssh session,
// or an operator's reload) re-reads the key files, SIGUSR1 logs the counters. None of them
// may ever end tund by its default action.
//
// main() blocks them first thing, so one that arrives during start-up stays pending; the
// SignalDispatcher then installs handlers (delivered on the io_context, never in a signal
// handler) and unblocks them, and the pending ones are delivered.
#pragma once

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <functional>

namespace tund::daemon {

// The first thing main() does: SIGINT, SIGTERM, SIGHUP and SIGUSR1 are held pending.
void block_daemon_signals();

class SignalDispatcher {
 public:
  using Handler = std::function<void(int signal)>;

  // Handlers run on `io`; the stop handler gets SIGINT or SIGTERM, reload SIGHUP,
  // report SIGUSR1. Unblocks the signals that block_daemon_signals() held.
  SignalDispatcher(asio::io_context& io, Handler on_stop, Handler on_reload, Handler on_report);
  ~SignalDispatcher();
  SignalDispatcher(const SignalDispatcher&) = delete;
  SignalDispatcher& operator=(const SignalDispatcher&) = delete;

  // A stop was asked for (the first SIGINT/SIGTERM so far); later ones are also passed on.
  bool stop_requested() const { return stop_signal_ != 0; }
  int stop_signal() const { return stop_signal_; }

 private:
  void wait();

  asio::signal_set set_;
  Handler on_stop_, on_reload_, on_report_;
  int stop_signal_ = 0;
};

// "SIGTERM", "SIGINT", "SIGHUP", ...
const char* signal_name(int signal);

}  // namespace tund::daemon
