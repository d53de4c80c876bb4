// The client side of the control socket (docs/CONTROL.md), for the commands
//   tund show [IFACE] [--json | --dump | --prometheus] [--control-socket PATH]
//   tund reload IFACE [--control-socket PATH]
//   tund disconnect IFACE PEER [--control-socket PATH]
// `show` without IFACE asks every socket in /run/tund (a stale one, left by a killed
// tund, is skipped). Exit status: 0 done; 1 a daemon could not be reached or refused
// (one line on stderr, e.g. "tund: /run/tund/tun0.sock: Permission denied"); 2 usage.
#pragma once

#include <string>
#include <vector>

namespace tund::daemon {

bool is_control_command(const std::string& word);  // show, reload, disconnect
int run_control_command(const std::vector<std::string>& args);

}  // namespace tund::daemon
