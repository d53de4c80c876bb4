// The child-process side of the hooks: spawning with a clean slate, supervising the child
// from the event loop (woken by a pidfd when the kernel has one), and reading its stdout and
// stderr pipes from the same loop into the log.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "tund/daemon/hooks.hpp"
#include "tund/util/lifetime.hpp"

extern char** environ;

namespace tund::daemon {
namespace {

using Clock = std::chrono::steady_clock;

// No descriptor of tund's (sockets, the device, the pidfds) may outlive exec: a hook's
// background child would otherwise hold tund's port after tund exits.
void close_inherited_fds() {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0) return;
#endif
  rlimit limit{};
  rlim_t top = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
  int last = static_cast<int>(std::min<rlim_t>(top, 1 << 16));
  for (int fd = 3; fd < last; ++fd) ::close(fd);
}

// In the child, between fork and exec: only async-signal-safe calls. `out` and `err` (both
// >= 3, see OutputPipes) become its stdout and stderr.
[[noreturn]] void exec_child(const char* command, char* const* envp, int out, int err) {
  setpgid(0, 0);  // a group of its own: tund can end the hook and what it started
  if (dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0) _exit(127);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // tund blocks its signals; the hook must not
  signal(SIGPIPE, SIG_DFL);                  // tund ignores it; a shell pipeline must not
  close_inherited_fds();
  const char* argv[] = {"/bin/sh", "-c", command, nullptr};
  execve("/bin/sh", const_cast<char* const*>(argv), envp);
  _exit(127);
}

int exit_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Watches one child: wakes the loop when it exits (pidfd) and reaps it.
class Child {
 public:
  Child(asio::io_context& io, pid_t pid) : pid_(pid), pidfd_(io) {
#ifdef SYS_pidfd_open
    int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (fd >= 0) {
      pidfd_.assign(fd);
      arm();
    }
#endif
  }
  bool woken_by_kernel() const {
    return pidfd_.is_open();
  }
  std::optional<int> status() const {
    return status_;
  }
  void reap() {
    int st = 0;
    if (!status_ && waitpid(pid_, &st, WNOHANG) == pid_) status_ = exit_code(st);
  }
  void signal_group(int sig) const {
    ::kill(-pid_, sig);
  }

 private:
  void arm() {
    pidfd_.async_wait(asio::posix::stream_descriptor::wait_read,
                      lifetime_.guard([this](std::error_code ec) {
                        if (ec) return;
                        reap();
                        if (!status_) arm();
                      }));
  }

  pid_t pid_;
  asio::posix::stream_descriptor pidfd_;
  std::optional<int> status_;
  util::Lifetime lifetime_;  // a wake-up still queued when the Child is gone does nothing
};

// One of the hook's output streams: the read end of its pipe, watched by the event loop.
// A wake-up still queued when run_hook() returns (and the pipe is gone) does nothing: its
// handler is guarded by the pipe's Lifetime.
class OutputPipe {
 public:
  OutputPipe(asio::io_context& io, int fd, HookOutput::Sink sink)
      : pipe_(io, fd), output_(std::move(sink)) {}
  void start() { arm(); }
  bool ended() const { return ended_; }
  // Reads what is there now (never waits), then stops: the end of a hook's output.
  void close() {
    if (!pipe_.is_open()) return;
    read_available();
    output_.finish(Clock::now());
    std::error_code ignored;
    pipe_.close(ignored);
  }

 private:
  void arm() {
    pipe_.async_wait(asio::posix::stream_descriptor::wait_read,
                     lifetime_.guard([this](std::error_code ec) {
                       if (ec || !pipe_.is_open()) return;
                       read_available();
                       if (!ended_) arm();
                     }));
  }
  // At most 64 KiB per wake-up, so that a hook printing without pause cannot starve the
  // rest of the loop (signals, the tunnel); the next wake-up reads on.
  void read_available() {
    char buf[4096];
    for (int i = 0; i < 16 && !ended_; ++i) {
      ssize_t n = ::read(pipe_.native_handle(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) {  // the end, or an error that no retry mends
        ended_ = true;
        return;
      }
      output_.feed(std::string_view(buf, static_cast<std::size_t>(n)), Clock::now());
    }
  }

  asio::posix::stream_descriptor pipe_;
  HookOutput output_;
  bool ended_ = false;
  util::Lifetime lifetime_;
};

// A descriptor that is not 0, 1 or 2 (which are closed when tund was started without
// them): dup2() in the child would otherwise overwrite one pipe end with the other.
int above_stdio(int fd) {
  if (fd > STDERR_FILENO) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  int saved = errno;
  ::close(fd);
  errno = saved;
  return moved;
}

// The hook's stdout and stderr pipes: the write ends for the child, the read ends
// non-blocking for the loop. All close-on-exec: only the child's dup2() copies survive.
struct PipeFds {
  int read[2] = {-1, -1};  // stdout, stderr
  int write[2] = {-1, -1};
  ~PipeFds() {
    for (int fd : {read[0], read[1], write[0], write[1]})
      if (fd >= 0) ::close(fd);
  }
  bool open() {
    for (int i = 0; i < 2; ++i) {
      int fds[2];
      if (pipe2(fds, O_CLOEXEC) != 0) return false;
      read[i] = above_stdio(fds[0]);
      write[i] = above_stdio(fds[1]);
      if (read[i] < 0 || write[i] < 0) return false;
      if (fcntl(read[i], F_SETFL, O_NONBLOCK) != 0) return false;
    }
    return true;
  }
  void close_write_ends() {
    for (int& fd : write) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }
  int release_read(int i) { return std::exchange(read[i], -1); }
};

std::vector<std::string> full_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> all;
  for (char** e = environ; *e; ++e) all.emplace_back(*e);
  all.insert(all.end(), extra.begin(), extra.end());
  return all;
}

// What the supervision loop has done to the child so far.
struct Supervision {
  Clock::time_point started = Clock::now();
  bool terminated = false;  // SIGTERM went to the group
  Clock::time_point terminated_at{};
  bool killed = false;
};

void supervise(Child& child, Supervision& s, const std::string& what, const HookLimits& limits,
               util::Logger& log) {
  auto now = Clock::now();
  if (!s.terminated && limits.interrupted && limits.interrupted()) {
    log.info("stopping the ", what, " hook (its process group)");
    child.signal_group(SIGTERM);
    s.terminated = true;
    s.terminated_at = now;
  }
  bool overdue = limits.timeout.count() > 0 && now - s.started >= limits.timeout;
  bool grace_over = s.terminated && now - s.terminated_at >= limits.grace;
  if (!s.killed && (overdue || grace_over)) {
    if (overdue)
      log.error(what, " hook still running after ",
                std::chrono::duration_cast<std::chrono::seconds>(limits.timeout).count(),
                " s; killing it (its process group)");
    child.signal_group(SIGKILL);
    s.killed = true;
  }
}

int wait_for(asio::io_context& io, Child& child, const std::string& what, const HookLimits& limits,
             util::Logger& log) {
  Supervision s;
  while (!child.status()) {
    supervise(child, s, what, limits, log);
    if (io.stopped()) io.restart();
    io.run_one_for(child.woken_by_kernel() ? std::chrono::milliseconds(200)
                                           : std::chrono::milliseconds(20));
    if (!child.woken_by_kernel()) child.reap();
  }
  return s.terminated ? kHookInterrupted : *child.status();
}

using Pipes = std::vector<std::unique_ptr<OutputPipe>>;

// Both output pipes, watched from now on: stdout lines at info, stderr lines at warn.
Pipes watch_output(asio::io_context& io, PipeFds& fds, const std::string& what, util::Logger& log) {
  Pipes pipes;
  for (int i = 0; i < 2; ++i) {
    util::LogLevel level = i == 0 ? util::LogLevel::info : util::LogLevel::warn;
    HookOutput::Sink sink{
        [&log, what, level](std::string_view line) { log.log(level, "hook ", what, ": ", line); },
        [&log, what](unsigned long lines) {
          HookOutput::Bounds b;
          log.warn("hook ", what, ": ", lines, " lines of its output not logged (more than ",
                   b.lines_per_window, " lines in ",
                   std::chrono::duration_cast<std::chrono::seconds>(b.window).count(), " s)");
        }};
    pipes.push_back(std::make_unique<OutputPipe>(io, fds.release_read(i), std::move(sink)));
    pipes.back()->start();
  }
  return pipes;
}

// The rest of the output of a hook that has exited: until both pipes end, at most `grace`.
void finish_output(asio::io_context& io, Pipes& pipes, std::chrono::milliseconds grace,
                   const std::string& what, util::Logger& log) {
  auto deadline = Clock::now() + grace;
  auto ended = [&] {
    return std::all_of(pipes.begin(), pipes.end(), [](auto& p) { return p->ended(); });
  };
  while (!ended() && Clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  }
  bool held = !ended();
  for (auto& pipe : pipes) pipe->close();
  // With no grace (tund is stopping and killed the hook's group) an unread pipe end says
  // nothing about a background process: no warning then.
  if (held && grace.count() > 0)
    log.warn(what, " hook has exited, but a process it started still holds its output open; ",
             "no longer reading it (redirect that process's output)");
}

}  // namespace

int run_hook(asio::io_context& io, const std::string& what, const std::string& command,
             const std::vector<std::string>& extra, util::Logger& log, const HookLimits& limits) {
  std::vector<std::string> env = full_environment(extra);
  std::vector<char*> envp;
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  log.info("running ", what, " hook: ", command);
  PipeFds fds;
  if (!fds.open()) {
    log.error(what, " hook: cannot make pipes for its output: ", std::strerror(errno));
    return 127;
  }
  pid_t pid = fork();
  if (pid < 0) {
    log.error(what, " hook: fork failed: ", std::strerror(errno));
    return 127;
  }
  if (pid == 0) exec_child(command.c_str(), envp.data(), fds.write[0], fds.write[1]);
  setpgid(pid, pid);       // also here: no race with a signal_group() right after fork
  fds.close_write_ends();  // else the pipes would never end
  Pipes pipes = watch_output(io, fds, what, log);
  Child child(io, pid);
  int code = wait_for(io, child, what, limits, log);
  finish_output(io, pipes,
                code == kHookInterrupted ? std::chrono::milliseconds(0) : kHookOutputGrace, what,
                log);
  if (code == kHookInterrupted)
    log.info(what, " hook stopped");
  else if (code != 0 && what != "up")  // a failed --up is the start-up error its caller
    log.error(what, " hook exited with status ", code);  // reports: one line, not two
  return code;
}

}  // namespace tund::daemon
