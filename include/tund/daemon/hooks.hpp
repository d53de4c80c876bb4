// --up / --down: user commands run with /bin/sh -c and TUND_* variables describing the
// tunnel, so the example scripts (examples/*-up.sh) work both as hooks and by hand.
//
// A hook runs as a child in a process group of its own, with none of tund's descriptors
// (every fd >= 3 is closed before exec, so a background child of the hook cannot keep
// tund's port or device), the signal mask and dispositions reset. While it runs, tund's
// event loop keeps running: signals are handled, the tunnel (if up) keeps carrying
// traffic; the hook's stdout and stderr are pipes whose lines tund logs (run_hook()). A
// stop signal ends an --up hook (its whole group); a hook past its time limit is
// killed (its whole group) with a log line.
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
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
// TUND_MTU, TUND_REMOTE (client: the server host; server: empty), TUND_PORT,
// TUND_TRANSPORT, TUND_LINK_IP (IPv4) and TUND_LINK_IP6 (empty: none);
// TUND_ADDRESSES: every --address as given, space-separated ("10.0.0.1/24 fd00::1/64");
// TUND_LOCAL_ADDR / TUND_PREFIX / TUND_PEER_ADDR: the first --address (either family),
// prefix split off, and its --peer; the same with suffix 4 and 6 for the first address of
// each family (all empty when there is none).
std::vector<std::string> hook_environment(const HookContext& context);

struct HookLimits {
  // Polled while the hook runs; once true the hook's process group gets SIGTERM (SIGKILL
  // after `grace`) and run() returns kHookInterrupted. Empty: never interrupted.
  std::function<bool()> interrupted;
  std::chrono::milliseconds timeout{0};  // 0: none; else SIGKILL to the group after it
  std::chrono::milliseconds grace{2000};
};

inline constexpr std::chrono::milliseconds kHookOutputGrace{1000};

inline constexpr int kHookInterrupted = -1;

// HookOutput's limits (below).
struct HookOutputBounds {
  std::size_t max_line = 4096;  // bytes
  unsigned lines_per_window = 500;
  std::chrono::steady_clock::duration window = std::chrono::seconds(10);
};

// What a hook prints on one of its streams, as lines for the log. A hook's stdout and
// stderr are pipes that tund reads while the hook runs, so that each line goes through the
// Logger: a journald priority (stdout info, stderr warning) or a timestamp, and the
// escaping of control characters and invalid UTF-8. Bytes are split at '\n' (a '\r' before
// it is dropped: CRLF output); a partial last line is delivered by finish(). Bounds, so that
// a hook printing megabytes neither floods the log nor blocks (its bytes are still read):
// a line longer than `max_line` bytes is cut there, marked " [cut: line longer than N
// bytes]", and the rest of it skipped; at most `lines_per_window` lines in each `window`, the
// others only counted and reported once (`dropped`) when the next window opens or at finish().
class HookOutput {
 public:
  using Clock = std::chrono::steady_clock;
  struct Sink {
    std::function<void(std::string_view line)> line;
    std::function<void(unsigned long lines)> dropped;
  };
  using Bounds = HookOutputBounds;

  explicit HookOutput(Sink sink, Bounds bounds = {}) : sink_(std::move(sink)), bounds_(bounds) {}
  const Bounds& bounds() const { return bounds_; }

  void feed(std::string_view bytes, Clock::time_point now);
  // End of the stream: the partial last line, then the count of lines dropped.
  void finish(Clock::time_point now);

 private:
  void deliver(std::string_view line, Clock::time_point now);
  void report_dropped();

  Sink sink_;
  Bounds bounds_;
  std::string partial_;
  bool cutting_ = false;  // skipping the rest of a line that was cut
  Clock::time_point window_start_{};
  unsigned in_window_ = 0;
  unsigned long dropped_ = 0;
};

// Runs `command` with the current environment plus `extra`, running `io` meanwhile.
// Returns its exit status (128 + N when killed by signal N, 127 when it could not run) or
// kHookInterrupted; logs a line when it starts and when it fails. Its stdout and stderr
// are logged line by line as "hook <what>: <line>" (HookOutput), stdout at info, stderr
// at warn. After the hook has exited, its output is read until both pipes end, but for at
// most kHookOutputGrace (none once interrupted): a background process the hook started
// may keep them open, and must not hold tund up (it gets EPIPE/SIGPIPE if it writes on).
int run_hook(asio::io_context& io, const std::string& what, const std::string& command,
             const std::vector<std::string>& extra, util::Logger& log,
             const HookLimits& limits = {});

}  // namespace tund::daemon
