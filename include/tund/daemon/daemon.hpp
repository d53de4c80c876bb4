// The composition root: the only place that builds concrete pieces (TUN device, sockets)
// and hands them to the engine behind their interfaces.
#pragma once

#include "tund/config/config.hpp"

namespace tund::daemon {

// Runs until SIGINT/SIGTERM. Returns the process exit status: 0 after a clean shutdown,
// 1 when start-up failed (the reason printed as one line on stderr).
int run(const config::Config& config);

}  // namespace tund::daemon
