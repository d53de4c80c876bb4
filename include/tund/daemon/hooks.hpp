// --up / --down: user commands run with /bin/sh -c and TUND_* variables describing the
// tunnel, so the example scripts (examples/*-up.sh) work both as hooks and by hand.
#pragma once

#include <string>
#include <vector>

#include "tund/config/config.hpp"
#include "tund/util/log.hpp"

namespace tund::daemon {

struct HookContext {
  const config::Config* config;
  std::string iface;  // the actual device name
  unsigned mtu;
};

// "NAME=value" entries: TUND_IFACE, TUND_MODE (tun|tap), TUND_ROLE (server|client),
// TUND_MTU, TUND_LOCAL_ADDR / TUND_PEER_ADDR (from --address / --peer, prefix stripped),
// TUND_PREFIX, TUND_REMOTE (client: the server host; server: empty), TUND_PORT,
// TUND_TRANSPORT, TUND_LINK_IP.
std::vector<std::string> hook_environment(const HookContext& context);

// Runs `command` with the current environment plus `extra`; waits for it. Returns its
// exit status (127 if it could not run); logs a line either way.
int run_hook(const std::string& what, const std::string& command,
             const std::vector<std::string>& extra, util::Logger& log);

}  // namespace tund::daemon
