// The client side of the control socket (docs/CONTROL.md), for the commands
//   tund show [IFACE] [--json | --dump | --prometheus] [--control-socket PATH]
//   tund reload IFACE [--control-socket PATH]
//   tund disconnect IFACE PEER [--control-socket PATH]
// `show` without IFACE asks every socket in /run/tund (a stale one, left by a killed
// tund, is skipped). Exit status: 0 done; 1 a daemon could not be reached or refused
// (one line on stderr, e.g. "tund: /run/tund/tun0.sock: Permission denied"); 2 usage.
// One exchange per daemon: connect, write the request, read the reply to EOF, all within
// kControlClientTimeout; a reply longer than control::kMaxReplyBytes is refused.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace tund::daemon {

// The whole exchange with one daemon (connect, request, reply) ends within this.
inline constexpr std::chrono::seconds kControlClientTimeout{5};

bool is_control_command(const std::string& word);  // show, reload, disconnect
// Runs the command (args[0] is its name): output on stdout (written fully, else status
// 1), errors on stderr; returns the exit status. SIGPIPE is ignored from here on.
int run_control_command(const std::vector<std::string>& args);

// ---- the same without the standard streams (the unit tests use it) --------------------
// control::kMaxReplyBytes, repeated: main includes this header and may not include the
// control module (control_client.cpp checks they agree).
inline constexpr std::size_t kMaxControlReply = 64u << 20;

struct ControlClientSettings {
  std::string directory = "/run/tund";  // daemon::kControlDirectory: IFACE.sock lives here
  std::chrono::milliseconds timeout = kControlClientTimeout;
  std::size_t max_reply = kMaxControlReply;
};
struct ControlOutcome {
  int status = 0;   // the exit status
  std::string out;  // for stdout
  std::string err;  // for stderr: one line per failure, each ending in '\n'
};
ControlOutcome control_command(const std::vector<std::string>& args,
                               const ControlClientSettings& settings);

}  // namespace tund::daemon
