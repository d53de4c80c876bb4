// --up / --down: user commands run with /bin/sh -c and TUND_* variables describing the
// tunnel, so the example scripts (examples/*-up.sh) work both as hooks and by hand.
//
// A hook runs as a child in a process group of its own, with none of tund's descriptors
// (every fd >= 3 is closed before exec, so a background child of the hook cannot keep
// tund's port or device), the signal mask and dispositions reset. While it runs, tund's
// event loop keeps running: signals are handled, the tunnel (if up) keeps carrying
// traffic. A stop signal ends an --up hook (its whole group); a hook past its time limit is
// killed (its whole group) with a log line.
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "tund/config/config.hpp"
#include "tund/util/log.hpp"

namespace tund::daemon {

struct HookContext {
  const config::Config* config;
  std::string iface;  // the device's name now (it may have been renamed)
  unsigned mtu;       // the device's MTU now
};

// "NAME=value" entries: TUND_IFACE, TUND_MODE (tun|tap), TUND_ROLE (server|client),
// TUND_MTU, TUND_LOCAL_ADDR / TUND_PEER_ADDR (from --address / --peer, prefix stripped),
// TUND_PREFIX, TUND_REMOTE (client: the server host; server: empty), TUND_PORT,
// TUND_TRANSPORT, TUND_LINK_IP.
std::vector<std::string> hook_environment(const HookContext& context);

struct HookLimits {
  // Polled while the hook runs; once true the hook's process group gets SIGTERM (SIGKILL
  // after `grace`) and run() returns kHookInterrupted. Empty: never interrupted.
  std::function<bool()> interrupted;
  std::chrono::milliseconds timeout{0};  // 0: none; else SIGKILL to the group after it
  std::chrono::milliseconds grace{2000};
};

inline constexpr int kHookInterrupted = -1;

// Runs `command` with the current environment plus `extra`, running `io` meanwhile.
// Returns its exit status (128 + N when killed by signal N, 127 when it could not run) or
// kHookInterrupted; logs a line when it starts and when it fails.
int run_hook(asio::io_context& io, const std::string& what, const std::string& command,
             const std::vector<std::string>& extra, util::Logger& log,
             const HookLimits& limits = {});

}  // namespace tund::daemon
