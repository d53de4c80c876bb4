// The control socket's server side (control_server.hpp): binding safely (never stealing a
// live socket, never leaving a wider mode than asked), then one request per connection,
// bounded in size, time and number of connections. Nothing here can stop the daemon: an
// error on the socket or in a handler becomes an error reply or a closed connection, a
// counter and (rate-limited) a log line.
#include "tund/daemon/control_server.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <vector>

#include "tund/util/lifetime.hpp"

namespace tund::daemon {
namespace {

using asio::local::stream_protocol;

// Appended rather than chained with operator+: GCC 12 -O3 reports a false -Wrestrict for
// `"literal" + std::string&&` (GCC bug 105329).
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string text;
  ((text += parts), ...);
  return text;
}

std::string errno_text(int error) {
  return std::strerror(error);
}

}  // namespace

// getgrnam_r with a buffer that grows on ERANGE (group files with many members).
gid_t control_group_id(const std::string& name, const std::string& prefix) {
  // A numeric id is taken as it is, as chown(1) and systemd take one.
  if (!name.empty() && name.size() <= 9 &&
      name.find_first_not_of("0123456789") == std::string::npos)
    return static_cast<gid_t>(std::stoul(name));
  std::vector<char> buffer(1024);
  group entry{};
  group* found = nullptr;
  int error;
  while ((error = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) ==
             ERANGE &&
         buffer.size() < (1u << 20))
    buffer.resize(buffer.size() * 2);
  if (error != 0)
    throw std::runtime_error(cat(prefix, "cannot look up group '", name, "': ", errno_text(error)));
  if (!found) throw std::runtime_error(cat(prefix, "no group '", name, "'"));
  return entry.gr_gid;
}

namespace {

void make_directory(const std::string& path, const std::string& prefix) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return;
  std::string dir = path.substr(0, slash);
  // chmod: mkdir(2) applies the umask (the unit's UMask=0077), and clients must reach in.
  if (::mkdir(dir.c_str(), 0755) == 0) {
    (void)::chmod(dir.c_str(), 0755);
    return;
  }
  if (errno == EEXIST) return;
  throw std::runtime_error(cat(prefix, "cannot make directory ", dir, ": ", errno_text(errno)));
}

// Is someone listening on the socket file at `path`? ECONNREFUSED: nobody (a killed
// tund's file); connected, or EAGAIN (its backlog is full): yes.
bool someone_listens(const std::string& path, const std::string& prefix) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw std::runtime_error(cat(prefix, errno_text(errno)));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int error = rc == 0 ? 0 : errno;
  ::close(fd);
  if (error == 0 || error == EAGAIN) return true;
  if (error == ECONNREFUSED) return false;
  throw std::runtime_error(cat(prefix, errno_text(error)));
}

// A socket file left by a tund that is gone is removed; a live one, or a file that is not
// a socket, is refused.
void clear_stale(const std::string& path, const std::string& prefix) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw std::runtime_error(cat(prefix, errno_text(errno)));
  }
  if (!S_ISSOCK(st.st_mode))
    throw std::runtime_error(cat(prefix, "exists and is not a socket; not touching it"));
  if (someone_listens(path, prefix))
    throw ControlSocketInUse(prefix + "another tund is listening on it");
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    throw std::runtime_error(cat(prefix, "cannot remove the stale socket: ", errno_text(errno)));
}

// Bound with umask 0177 so the file is never, even briefly, wider than 0600 (bind(2)
// applies the umask to a socket file; the daemon is single-threaded at start-up).
void bind_private(stream_protocol::acceptor& acceptor, const std::string& path) {
  acceptor.open();
  mode_t before = ::umask(0177);
  std::error_code ec;
  acceptor.bind(stream_protocol::endpoint(path), ec);
  ::umask(before);
  if (ec) throw std::system_error(ec);
  // A full backlog would make a client's connect(2) wait, not fail: room for a burst,
  // which the accept loop then refuses past kMaxControlClients.
  acceptor.listen();
}

}  // namespace

std::string default_control_socket(const std::string& iface) {
  std::string path = kControlDirectory;
  path += "/";
  path += iface;
  path += ".sock";
  return path;
}

namespace {

struct Connection;

// The server's state, owned plainly by the ControlServer; its handlers are guarded by
// `life` (util/lifetime.hpp), so one that runs after stop() or after the server is gone
// does nothing.
struct Core {
  Core(asio::io_context& io_, util::Logger& log_, ControlOptions options_,
       ControlHandlers handlers_)
      : io(io_),
        log(log_),
        options(std::move(options_)),
        handlers(std::move(handlers_)),
        acceptor(io_),
        retry(io_) {}

  asio::io_context& io;
  util::Logger& log;
  ControlOptions options;
  ControlHandlers handlers;
  stream_protocol::acceptor acceptor;
  asio::steady_timer retry;  // after an accept error (EMFILE...): no tight loop
  ControlStats stats;
  std::vector<std::unique_ptr<Connection>> connections;  // at most kMaxControlClients
  // Closed connections, destroyed from a posted handler: a connection closes itself from
  // inside its own handler, so it must outlive that call.
  std::vector<std::unique_ptr<Connection>> retired;
  bool sweep_posted = false;
  util::LogLimiter complaints;
  dev_t device = 0;
  ino_t inode = 0;
  bool bound = false, stopped = false;
  util::Lifetime life;  // guards the acceptor's, the retry timer's and the sweep's handlers

  std::string prefix() const { return cat("control socket ", options.path, ": "); }
  void complain(const std::string& what) { util::warn_limited(log, complaints, prefix() + what); }
  void accept();
  void on_accept(std::error_code ec, stream_protocol::socket socket);
  void refuse_busy(stream_protocol::socket& socket);
  void finished(Connection& connection);
  void sweep_later();
  std::string answer(const std::string& request, uid_t uid);
  std::string run_command(const control::Request& request);
};

// One client: its request (bounded in size and time), the reply, then the end. Owned by
// its Core; its handlers are guarded by `life`, which close() ends.
struct Connection {
  Connection(Core& core_, stream_protocol::socket socket_)
      : core(core_), socket(std::move(socket_)), deadline(core_.io) {}

  Core& core;
  stream_protocol::socket socket;
  asio::steady_timer deadline;
  std::string request, reply;
  std::array<char, 1024> chunk{};
  uid_t uid = static_cast<uid_t>(-1);  // unknown: may not change state
  bool closed = false;
  util::Lifetime life;

  void start();
  void read();
  void on_read(std::error_code ec, std::size_t size);
  void respond();
  void arm_deadline();
  void close();
};

void Connection::start() {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
    uid = cred.uid;
  arm_deadline();
  read();
}

void Connection::arm_deadline() {
  deadline.expires_after(core.options.deadline);
  deadline.async_wait(life.guard([this](std::error_code ec) {
    if (ec || closed) return;
    ++core.stats.timed_out;
    core.complain(cat("a client took too long (uid ", std::to_string(uid), "); closed"));
    close();
  }));
}

void Connection::read() {
  socket.async_read_some(
      asio::buffer(chunk),
      life.guard([this](std::error_code ec, std::size_t size) { on_read(ec, size); }));
}

// The request ends with its blank line (or the client's end of writing).
void Connection::on_read(std::error_code ec, std::size_t size) {
  if (closed) return;
  request.append(chunk.data(), size);
  if (request.size() > control::kMaxRequestBytes) {
    ++core.stats.bad_requests;
    core.complain(cat("a request over ", std::to_string(control::kMaxRequestBytes), " bytes (uid ",
                      std::to_string(uid), "); refused"));
    reply = control::encode_error_reply("request too large");
    return respond();
  }
  // A client that goes away without a word (a liveness probe: someone_listens) is not
  // an error; neither is one lost to a socket error.
  bool complete =
      request.find("\n\n") != std::string::npos || (ec == asio::error::eof && !request.empty());
  if (ec && !complete) return close();
  if (!complete) return read();
  reply = core.answer(request, uid);
  respond();
}

void Connection::respond() {
  arm_deadline();  // the reply too has its time: a client that does not read is cut
  asio::async_write(socket, asio::buffer(reply),
                    life.guard([this](std::error_code, std::size_t) { close(); }));
}

// Ends the connection: its handlers still queued become no-ops, and the Core retires it
// (it is destroyed later, not here: close() usually runs inside one of its handlers).
void Connection::close() {
  if (closed) return;
  closed = true;
  life.renew();
  std::error_code ignored;
  socket.shutdown(stream_protocol::socket::shutdown_both, ignored);
  socket.close(ignored);
  deadline.cancel();
  core.finished(*this);
}

// ---- the server ---------------------------------------------------------------------------

}  // namespace

struct ControlServer::State {
  State(asio::io_context& io, util::Logger& log, ControlOptions options, ControlHandlers handlers)
      : core(io, log, std::move(options), std::move(handlers)) {}
  Core core;
};

// Out of the live set at once (the busy count drops now, as before); destroyed by the
// sweep. Safe: the loop runs on one thread, so the caller (usually a handler of
// `connection`) returns before the posted sweep runs; the sweep is guarded, so it does
// nothing once the server is gone (then the server's destructor freed them).
void Core::finished(Connection& connection) {
  auto it = std::find_if(connections.begin(), connections.end(),
                         [&](const auto& owned) { return owned.get() == &connection; });
  if (it == connections.end()) return;
  retired.push_back(std::move(*it));
  connections.erase(it);
  sweep_later();
}

void Core::sweep_later() {
  if (sweep_posted) return;
  sweep_posted = true;
  asio::post(io, life.guard([this] {
    sweep_posted = false;
    retired.clear();
  }));
}

void Core::accept() {
  acceptor.async_accept(life.guard([this](std::error_code ec, stream_protocol::socket socket) {
    on_accept(ec, std::move(socket));
  }));
}

void Core::on_accept(std::error_code ec, stream_protocol::socket socket) {
  if (stopped || ec == asio::error::operation_aborted) return;
  if (ec) {
    complain(cat("accept: ", ec.message()));
    retry.expires_after(std::chrono::milliseconds(100));
    retry.async_wait(life.guard([this](std::error_code e) {
      if (!e && !stopped) accept();
    }));
    return;
  }
  if (connections.size() >= kMaxControlClients) {
    refuse_busy(socket);
  } else {
    connections.push_back(std::make_unique<Connection>(*this, std::move(socket)));
    connections.back()->start();
  }
  accept();
}

void Core::refuse_busy(stream_protocol::socket& socket) {
  ++stats.refused_busy;
  complain(cat("more than ", std::to_string(kMaxControlClients), " clients at once; refused one"));
  // Say why before closing, so `tund show` reports "busy" rather than an empty reply. A
  // fresh connection's send buffer is empty: one short non-blocking write always fits.
  std::string busy = control::encode_error_reply(
      cat("busy: ", std::to_string(kMaxControlClients), " control clients are connected"));
  std::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(busy), ignored);
  socket.close(ignored);
}

// The reply to one request; never throws (a handler's error is the reply's error line).
namespace {

// An error line as a reply; one that cannot be written (a line break in it) is replaced.
std::string error_reply(const std::string& error) {
  try {
    return control::encode_error_reply(error);
  } catch (const control::ProtocolError&) {
    return control::encode_error_reply("the command failed (its error cannot be shown)");
  }
}

}  // namespace

// The reply to one request; never throws for bad input or a failing handler (a handler's
// error is the reply's error line).
std::string Core::answer(const std::string& text, uid_t uid) {
  control::Request request;
  try {
    request = control::parse_request(text);
  } catch (const control::ProtocolError& e) {
    ++stats.bad_requests;
    complain(cat("bad request (uid ", std::to_string(uid), "): ", e.what()));
    return error_reply(cat("bad request: ", e.what()));
  }
  const std::string command = control::name(request.command);
  if (control::changes_state(request.command) && uid != 0 && uid != options.own_uid) {
    ++stats.denied;
    complain(cat(command, " from uid ", std::to_string(uid), " refused"));
    return error_reply(cat("permission denied: ", command, " needs root"));
  }
  ++stats.requests;
  try {
    return run_command(request);
  } catch (const std::exception& e) {
    return error_reply(e.what());
  }
}

std::string Core::run_command(const control::Request& request) {
  switch (request.command) {
    case control::Command::show:
      return control::encode_status_reply(handlers.show());
    case control::Command::reload:
      return control::encode_ok_reply(handlers.reload());
    case control::Command::disconnect:
      return control::encode_ok_reply(handlers.disconnect(request.peer));
  }
  throw std::runtime_error("unknown command");
}

ControlServer::ControlServer(asio::io_context& io, util::Logger& log, ControlOptions options,
                             ControlHandlers handlers)
    : state_(std::make_unique<State>(io, log, std::move(options), std::move(handlers))) {}

ControlServer::~ControlServer() {
  stop();
}

void ControlServer::start() {
  Core& s = state_->core;
  const std::string& path = s.options.path;
  if (path.empty() || path.size() >= sizeof(sockaddr_un{}.sun_path))
    throw std::runtime_error(cat(s.prefix(), "the path is empty or too long for a Unix socket"));
  std::optional<gid_t> gid;
  if (!s.options.group.empty()) gid = control_group_id(s.options.group, s.prefix());
  make_directory(path, s.prefix());
  clear_stale(path, s.prefix());
  try {
    bind_private(s.acceptor, path);
  } catch (const std::system_error& e) {
    throw std::runtime_error(s.prefix() + e.code().message());
  }
  s.bound = true;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) s.device = st.st_dev, s.inode = st.st_ino;
  if (gid && (::chown(path.c_str(), static_cast<uid_t>(-1), *gid) != 0 ||
              ::chmod(path.c_str(), 0660) != 0)) {
    int error = errno;
    stop();
    throw std::runtime_error(
        cat(s.prefix(), "cannot give it to group '", s.options.group, "': ", errno_text(error)));
  }
  s.accept();
}

// Safe from any handler, a connection's own included: connections are only retired here,
// destroyed by the sweep or with the server.
void ControlServer::stop() {
  Core& s = state_->core;
  if (s.stopped) return;
  s.stopped = true;
  s.life.renew();  // the queued accept, retry and sweep handlers do nothing now
  s.sweep_posted = false;
  std::error_code ignored;
  s.acceptor.close(ignored);
  s.retry.cancel();
  std::vector<Connection*> open;  // close() moves each out of s.connections
  for (const auto& connection : s.connections) open.push_back(connection.get());
  for (Connection* connection : open) connection->close();
  if (!s.bound) return;
  // Only our own file: another tund may have replaced it (a restart racing this exit).
  struct stat st {};
  if (::lstat(s.options.path.c_str(), &st) == 0 && st.st_dev == s.device && st.st_ino == s.inode)
    ::unlink(s.options.path.c_str());
}

const ControlStats& ControlServer::stats() const {
  return state_->core.stats;
}

const std::string& ControlServer::path() const {
  return state_->core.options.path;
}

}  // namespace tund::daemon
