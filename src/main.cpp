// tund: a key command, or parse the command line and hand over to the daemon.
#include <csignal>
#include <string>
#include <variant>
#include <vector>

#include "tund/config/cli.hpp"
#include "tund/daemon/control_client.hpp"
#include "tund/daemon/daemon.hpp"
#include "tund/daemon/keytool.hpp"
#include "tund/daemon/signals.hpp"
#include "tund/util/log.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // The key commands are filters, which Ctrl-C may end; the daemon is not.
  if (!args.empty() && tund::daemon::is_key_command(args[0]))
    return tund::daemon::run_key_command(args);
  // The control commands are clients of a running tund: short-lived, Ctrl-C ends them.
  if (!args.empty() && tund::daemon::is_control_command(args[0]))
    return tund::daemon::run_control_command(args);
  // A SIGINT/SIGTERM/SIGHUP from here on waits for the daemon's handlers instead of killing
  // tund by its default action (daemon/signals.hpp).
  tund::daemon::block_daemon_signals();
  std::signal(SIGPIPE, SIG_IGN);  // a dead peer is an error code, not a killed process
  auto parsed = tund::config::parse_command_line(args);
  if (auto* exit = std::get_if<tund::config::CliExit>(&parsed)) {
    // Errors and usage on stderr carry a priority under journald (a config error is the
    // usual reason a service does not start).
    if (exit->status == 0)  // help/version: lost output is an error, not status 0
      return tund::util::print_stdout(exit->output, "the output") ? 0 : 1;
    tund::util::print_stderr(tund::util::LogLevel::error, exit->output);
    return exit->status;
  }
  // A closed 0, 1 or 2 would be taken by the next socket or device (and get the log lines).
  tund::util::reserve_standard_descriptors();
  return tund::daemon::run(std::get<tund::config::Config>(parsed), args);
}
