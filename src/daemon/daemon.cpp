#include "tund/daemon/daemon.hpp"

#include <string>

#include "daemon_impl.hpp"

namespace tund::daemon {

Daemon::Daemon(const config::Config& config, std::vector<std::string> args)
    : cfg_(config),
      args_(std::move(args)),
      log_(config.debug ? util::LogLevel::debug : util::LogLevel::info),
      signals_(
          io_, [this](int s) { on_stop_signal(s); }, [this](int) { on_sighup(); },
          [this](int) { report(); }),
      reloader_(config, log_) {
  started_ = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
}

// From here to the end, a stop signal is a clean exit: start() checks for one between its
// steps and while it waits (name lookup, --up), serve() until it comes, shut_down() after.
int Daemon::run() {
  if (auto status = start()) return *status;
  serve();
  return shut_down();
}

// The outermost net: an exception from a start-up step (say, a handler that ran while
// --up did) ends tund with a message and status 1, never through std::terminate.
int run(const config::Config& config, std::vector<std::string> args) {
  try {
    Daemon daemon(config, std::move(args));
    return daemon.run();
  } catch (const std::exception& e) {
    util::print_stderr(util::LogLevel::error, std::string("tund: internal error: ") + e.what());
    return 1;
  }
}

}  // namespace tund::daemon
