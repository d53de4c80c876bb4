// The control socket (docs/CONTROL.md): a Unix stream socket, /run/tund/IFACE.sock by
// default (--control-socket PATH), on which `tund show`, `tund reload` and
// `tund disconnect` reach a running daemon. Runs on the daemon's event loop.
//
// Permissions: the socket is made mode 0600, owner root (the daemon's uid before any
// --user switch); with --control-group GROUP, 0660 and that group. The kernel checks the
// mode at connect(2) (unix(7)); the daemon also reads the caller's credentials
// (SO_PEERCRED) and lets commands that change state (reload, disconnect) through only for
// uid 0 or its own uid; show is for anyone the mode let in.
// Bounds: a request of more than control::kMaxRequestBytes, or not complete within
// kRequestDeadline, is refused and the connection closed; at most kMaxControlClients
// connections at once (more are closed at accept, counted). One request per connection.
// Start-up: a socket file nobody listens on (a killed tund's) is replaced; one a live
// process listens on is never taken (start() throws, naming the path).
#pragma once

#include <sys/types.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "tund/control/records.hpp"
#include "tund/control/status.hpp"
#include "tund/util/log.hpp"

namespace tund::daemon {

inline constexpr const char* kControlDirectory = "/run/tund";
inline constexpr std::size_t kMaxControlClients = 16;
inline constexpr std::chrono::seconds kRequestDeadline{5};

// "/run/tund/IFACE.sock".
std::string default_control_socket(const std::string& iface);

// start(): a live process listens on the path (another tund). Never taken over; the
// daemon refuses to start, whether the path is the default or was given.
class ControlSocketInUse : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// The group's id (getgrnam_r; a number is taken as the id), for a check at start-up
// before anything is made. Throws
// std::runtime_error "PREFIXno group 'NAME'" (an addition to the issue-14 contract).
gid_t control_group_id(const std::string& group, const std::string& prefix);

struct ControlOptions {
  std::string path;   // the socket's path (its directory is made, mode 0755, if missing)
  std::string group;  // empty: mode 0600; else 0660 and this group (a name)
  uid_t own_uid = 0;  // the daemon's uid once running (after --user): may change state
  // How long a client has to send its request, and then to read the reply (tests shorten
  // it; an addition to the issue-14 contract).
  std::chrono::milliseconds deadline = kRequestDeadline;
};

struct ControlHandlers {
  std::function<control::InterfaceStatus()> show;
  // Each returns the one-line message of the reply, or throws std::runtime_error whose
  // what() is the one-line error.
  std::function<std::string()> reload;
  std::function<std::string(const std::string& peer)> disconnect;
};

struct ControlStats {
  std::uint64_t requests = 0;      // answered
  std::uint64_t denied = 0;        // a state change from a user not allowed it
  std::uint64_t bad_requests = 0;  // unparsable, too large
  std::uint64_t timed_out = 0;     // not complete within kRequestDeadline
  std::uint64_t refused_busy = 0;  // over kMaxControlClients
};

class ControlServer {
 public:
  ControlServer(asio::io_context& io, util::Logger& log, ControlOptions options,
                ControlHandlers handlers);
  ~ControlServer();  // stop()
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds and listens. Throws std::runtime_error with one line ("control socket
  // /run/tund/tun0.sock: another tund is listening on it (give --control-socket PATH)",
  // "...: no group 'tundctl'", "...: Permission denied").
  void start();
  // Closes every connection and removes the socket file if it is still the one made here.
  void stop();
  const ControlStats& stats() const;
  const std::string& path() const;

 private:
  struct State;
  std::unique_ptr<State> state_;  // owned plainly; its handlers are guarded (util::Lifetime)
};

}  // namespace tund::daemon
