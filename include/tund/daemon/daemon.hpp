// The composition root: the only place that builds concrete pieces (TUN device, sockets)
// and hands them to the engine behind their interfaces.
#pragma once

#include <string>
#include <vector>

#include "tund/config/config.hpp"

namespace tund::daemon {

// Runs until SIGINT/SIGTERM (at any stage of start-up or later). Returns the process exit
// status: 0 after a stop signal (clean shutdown, --down run if --up ran); 1 when start-up
// failed (the reason printed as one line on stderr), when the device failed under the
// engine, or after an internal error (both logged; --down run). SIGHUP reloads the key
// files (daemon/key_reload.hpp), or in hub mode the whole configuration, re-parsed from
// `args` (the command line it came from) and applied to the peers; SIGUSR1 logs the
// counters (and one line per hub peer).
int run(const config::Config& config, std::vector<std::string> args = {});

}  // namespace tund::daemon
