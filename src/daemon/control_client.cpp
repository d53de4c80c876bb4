#include "tund/daemon/control_client.hpp"

#include <dirent.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <string_view>

#include "tund/config/checks.hpp"
#include "tund/control/records.hpp"
#include "tund/control/render.hpp"
#include "tund/daemon/control_server.hpp"
#include "tund/util/log.hpp"

namespace tund::daemon {

static_assert(std::string_view(kControlDirectory) == "/run/tund",
              "ControlClientSettings::directory names the same directory");
static_assert(kMaxControlReply == control::kMaxReplyBytes);

namespace {

using Clock = std::chrono::steady_clock;

// ---- the command line -----------------------------------------------------------------

enum class Form { text, json, dump, prometheus };

struct Invocation {
  std::string command;
  std::vector<std::string> operands;  // IFACE, PEER
  Form form = Form::text;
  std::optional<std::string> socket;  // --control-socket
  bool help = false;
};

std::string usage_of(const std::string& command) {
  if (command == "reload") return "tund reload IFNAME [--control-socket PATH]";
  if (command == "disconnect") return "tund disconnect IFNAME PEER [--control-socket PATH]";
  return "tund show [IFNAME] [--json | --dump | --prometheus] [--control-socket PATH]";
}

std::string help_of(const std::string& command) {
  std::string text = "usage: ";
  text += usage_of(command);
  text += "\n";
  if (command == "reload")
    text += "Asks the tund on IFNAME to re-read its key files and peers (as SIGHUP does).\n";
  else if (command == "disconnect")
    text +=
        "Ends the session of PEER (a hub peer's name, or a public key) on IFNAME;\n"
        "the peer may connect again.\n";
  else
    text +=
        "Shows the status of the tund on IFNAME, or of every running tund.\n"
        "  --json          one JSON document (docs/tund-show.schema.json)\n"
        "  --dump          tab-separated, one line per peer, for scripts\n"
        "  --prometheus    the Prometheus text format (node_exporter's textfile collector)\n";
  text += "  --control-socket PATH  the daemon's control socket (default /run/tund/IFNAME.sock)\n";
  return text;
}

std::size_t operands_wanted(const std::string& command) {
  return command == "disconnect" ? 2 : command == "reload" ? 1 : 0;
}

// Takes the option at args[i] (advancing i past a separate value); "" or the error.
std::string take_option(const std::vector<std::string>& args, std::size_t& i, Invocation& inv) {
  const std::string& arg = args[i];
  if (arg == "-h" || arg == "--help") {
    inv.help = true;
    return "";
  }
  if (arg == "--control-socket" || arg.rfind("--control-socket=", 0) == 0) {
    bool joined = arg.size() > std::strlen("--control-socket");
    if (!joined && i + 1 >= args.size()) return "--control-socket needs a PATH";
    std::string path = joined ? arg.substr(arg.find('=') + 1) : args[++i];
    if (path.empty()) return "--control-socket needs a PATH";
    inv.socket = path;
    return "";
  }
  static const std::pair<const char*, Form> kForms[] = {
      {"--json", Form::json}, {"--dump", Form::dump}, {"--prometheus", Form::prometheus}};
  for (const auto& [name, form] : kForms) {
    if (arg != name || inv.command != "show") continue;
    if (inv.form != Form::text && inv.form != form)
      return "--json, --dump and --prometheus exclude each other";
    inv.form = form;
    return "";
  }
  return "unknown option '" + arg + "'";
}

// The operands' own checks: an interface name as the kernel takes it (it names a file),
// a peer that fits on a protocol line.
std::string operand_error(const Invocation& inv) {
  std::size_t most = inv.command == "show" ? 1 : operands_wanted(inv.command);
  if (inv.operands.size() > most)
    return "too many arguments ('" + inv.operands[most] + "' is one too many)";
  if (inv.operands.size() < operands_wanted(inv.command))
    return inv.operands.empty() ? "needs the interface name" : "needs the peer (name or key)";
  if (!inv.operands.empty()) {
    std::string why = config::interface_name_error(inv.operands[0]);
    if (!why.empty()) return why;
  }
  if (inv.operands.size() == 2 &&
      (inv.operands[1].empty() || std::any_of(inv.operands[1].begin(), inv.operands[1].end(),
                                              [](char c) { return c >= 0 && c < ' '; })))
    return "'" + inv.operands[1] + "' is not a peer name or key";
  return "";
}

// The invocation, or the usage error (without "tund: error: ").
std::string parse(const std::vector<std::string>& args, Invocation& inv) {
  inv.command = args.at(0);
  bool options_end = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (!options_end && args[i] == "--") {
      options_end = true;
    } else if (!options_end && args[i].size() > 1 && args[i][0] == '-') {
      std::string why = take_option(args, i, inv);
      if (!why.empty()) return why;
    } else {
      inv.operands.push_back(args[i]);
    }
  }
  return inv.help ? "" : operand_error(inv);
}

// ---- one exchange with a daemon ---------------------------------------------------------

class Socket {
 public:
  Socket() : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

// 0 once `fd` is ready for `events`; ETIMEDOUT at the deadline; else the errno.
int wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    int left = remaining_ms(deadline);
    if (left == 0) return ETIMEDOUT;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, left);
    if (n > 0) return 0;  // errors and hang-ups show in the read/write that follows
    if (n < 0 && errno != EINTR) return errno;
  }
}

// A full listen backlog makes a non-blocking connect(2) to a Unix socket fail with EAGAIN
// (unix(7)), not EINPROGRESS: try again shortly, until the deadline.
int connect_to(int fd, const std::string& path, Clock::time_point deadline) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return ENAMETOOLONG;
  std::memcpy(addr.sun_path, path.data(), path.size());
  for (;;) {
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return 0;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return errno;
    if (remaining_ms(deadline) == 0) return ETIMEDOUT;
    ::poll(nullptr, 0, std::min(remaining_ms(deadline), 20));
  }
}

int send_all(int fd, std::string_view text, Clock::time_point deadline) {
  while (!text.empty()) {
    ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    if (n > 0) {
      text.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (int e = wait_for(fd, POLLOUT, deadline)) return e;
    } else {
      return n < 0 ? errno : EIO;
    }
  }
  return 0;
}

// Reads to EOF. EMSGSIZE once more than `max` bytes came.
int read_all(int fd, std::string& out, std::size_t max, Clock::time_point deadline) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return 0;
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      if (out.size() > max) return EMSGSIZE;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (int e = wait_for(fd, POLLIN, deadline)) return e;
    } else {
      return errno;
    }
  }
}

enum class Stage { connect, exchange };
struct Exchange {
  Stage stage = Stage::connect;
  int error = 0;  // 0: `reply` is the whole reply
  std::string reply;
};

Exchange exchange(const std::string& path, const std::string& request,
                  const ControlClientSettings& settings) {
  Exchange ex;
  auto deadline = Clock::now() + settings.timeout;
  Socket sock;
  if (sock.fd() < 0) {
    ex.error = errno;
    return ex;
  }
  ex.error = connect_to(sock.fd(), path, deadline);
  if (ex.error != 0) return ex;
  ex.stage = Stage::exchange;
  ex.error = send_all(sock.fd(), request, deadline);
  // The daemon may answer (an error) and close before reading all of a request.
  if (ex.error == EPIPE || ex.error == ECONNRESET) ex.error = 0;
  if (ex.error == 0) ex.error = read_all(sock.fd(), ex.reply, settings.max_reply, deadline);
  return ex;
}

// ---- what is asked, and what is made of the answers --------------------------------------

struct Target {
  std::string path;      // the socket
  std::string name;      // in messages about the daemon's answer: the interface, or path
  bool scanned = false;  // found in the directory: a stale socket is skipped silently
  bool named = false;    // the user named the interface: "no tund is running for ..."
};

std::string exchange_error(const Target& t, const Exchange& ex, const ControlClientSettings& s) {
  std::string reason = std::strerror(ex.error);
  if (ex.error == ETIMEDOUT) {
    auto ms = s.timeout.count();
    std::string limit =
        ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
    return t.path + ": no answer within " + limit;
  }
  if (ex.error == EMSGSIZE)
    return t.path + ": the reply is longer than " + std::to_string(s.max_reply) + " bytes; refused";
  if (ex.stage == Stage::connect && ex.error == EACCES)
    return t.path + ": " + reason +
           " (root, or a member of the daemon's --control-group, may use it)";
  if (ex.stage == Stage::connect && t.named && (ex.error == ENOENT || ex.error == ECONNREFUSED))
    return "no tund is running for '" + t.name + "' (" + t.path + ": " + reason + ")";
  return t.path + ": " + reason;
}

struct Results {
  std::vector<control::InterfaceStatus> statuses;
  std::string messages;  // reload/disconnect: the daemon's message lines
  std::string err;
  bool failed = false;
  void fail(const std::string& line) {
    err += "tund: " + line + "\n";
    failed = true;
  }
};

void take_reply(const Target& t, const Invocation& inv, const std::string& text, Results& r) {
  control::Reply reply;
  try {
    reply = control::parse_reply(text);
  } catch (const control::ProtocolError& e) {
    r.fail(t.path + ": not a tund reply: " + e.what());
    return;
  }
  if (!reply.ok) {
    r.fail(t.name + ": " + reply.error);
  } else if (inv.command != "show") {
    r.messages += reply.message + "\n";
  } else if (reply.status) {
    r.statuses.push_back(std::move(*reply.status));
  } else {
    r.fail(t.path + ": not a tund reply: no status in the answer to show");
  }
}

void ask(const Target& t, const Invocation& inv, const std::string& request,
         const ControlClientSettings& settings, Results& r) {
  Exchange ex = exchange(t.path, request, settings);
  if (ex.error == 0) return take_reply(t, inv, ex.reply, r);
  bool gone = ex.error == ECONNREFUSED || ex.error == ENOENT;
  if (t.scanned && ex.stage == Stage::connect && gone) return;  // a killed tund's socket
  r.fail(exchange_error(t, ex, settings));
}

// Every *.sock in `directory`, sorted by name. A missing directory: no tund has run.
std::vector<Target> scan(const std::string& directory, Results& r) {
  std::vector<Target> found;
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) {
    if (errno != ENOENT) r.fail(directory + ": " + std::strerror(errno));
    return found;
  }
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    constexpr std::string_view kSuffix = ".sock";
    if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) continue;
    std::string iface = name.substr(0, name.size() - kSuffix.size());
    found.push_back(Target{directory + "/" + name, iface, true, false});
  }
  ::closedir(dir);
  std::sort(found.begin(), found.end(),
            [](const Target& a, const Target& b) { return a.path < b.path; });
  return found;
}

std::vector<Target> targets(const Invocation& inv, const ControlClientSettings& settings,
                            Results& r) {
  bool named = !inv.operands.empty();
  std::string name = named ? inv.operands[0] : inv.socket.value_or("");
  if (inv.socket) return {Target{*inv.socket, name, false, named}};
  if (named) return {Target{settings.directory + "/" + name + ".sock", name, false, true}};
  return scan(settings.directory, r);
}

std::string render(Form form, const std::vector<control::InterfaceStatus>& statuses) {
  switch (form) {
    case Form::json:
      return control::render_json(statuses);
    case Form::dump:
      return control::render_dump(statuses);
    case Form::prometheus:
      return control::render_prometheus(statuses);
    case Form::text:
      break;
  }
  return control::render_text(statuses);
}

control::Request request_of(const Invocation& inv) {
  control::Request req;
  req.command = inv.command == "reload"       ? control::Command::reload
                : inv.command == "disconnect" ? control::Command::disconnect
                                              : control::Command::show;
  if (req.command == control::Command::disconnect) req.peer = inv.operands.at(1);
  return req;
}

ControlOutcome run(const Invocation& inv, const ControlClientSettings& settings) {
  Results r;
  std::string request = control::encode_request(request_of(inv));
  for (const Target& t : targets(inv, settings, r)) ask(t, inv, request, settings, r);
  ControlOutcome outcome;
  outcome.status = r.failed ? 1 : 0;
  outcome.err = std::move(r.err);
  outcome.out = inv.command == "show" ? render(inv.form, r.statuses) : std::move(r.messages);
  return outcome;
}

}  // namespace

bool is_control_command(const std::string& word) {
  return word == "show" || word == "reload" || word == "disconnect";
}

ControlOutcome control_command(const std::vector<std::string>& args,
                               const ControlClientSettings& settings) {
  Invocation inv;
  std::string why = parse(args, inv);
  if (!why.empty())
    return {
        2, "",
        "tund: error: " + inv.command + ": " + why + "; usage: " + usage_of(inv.command) + "\n"};
  if (inv.help) return {0, help_of(inv.command), ""};
  try {
    return run(inv, settings);
  } catch (const std::exception& e) {  // encode_request refusing a peer, bad_alloc
    return {1, "", "tund: " + inv.command + ": " + e.what() + "\n"};
  }
}

int run_control_command(const std::vector<std::string>& args) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout or socket is an error code, not a kill
  ControlOutcome outcome = control_command(args, ControlClientSettings{});
  if (!outcome.err.empty()) util::print_stderr(util::LogLevel::error, outcome.err);
  if (outcome.status != 0 && outcome.out.empty()) return outcome.status;
  // Nothing to show (no tund running) is still checked: a closed stdout is status 1.
  bool written = util::print_stdout(outcome.out, "the output");
  return written ? outcome.status : 1;
}

}  // namespace tund::daemon
