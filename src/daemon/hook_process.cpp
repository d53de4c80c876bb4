// The child-process side of the hooks: spawning with a clean slate, and supervising the
// child from the event loop (woken by a pidfd when the kernel has one).
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>

#include "tund/daemon/hooks.hpp"

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

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const char* command, char* const* envp) {
  setpgid(0, 0);  // a group of its own: tund can end the hook and what it started
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
    pidfd_.async_wait(asio::posix::stream_descriptor::wait_read, [this](std::error_code ec) {
      if (ec) return;  // aborted: this Child may be gone
      reap();
      if (!status_) arm();
    });
  }

  pid_t pid_;
  asio::posix::stream_descriptor pidfd_;
  std::optional<int> status_;
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

}  // namespace

int run_hook(asio::io_context& io, const std::string& what, const std::string& command,
             const std::vector<std::string>& extra, util::Logger& log, const HookLimits& limits) {
  std::vector<std::string> env = full_environment(extra);
  std::vector<char*> envp;
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  log.info("running ", what, " hook: ", command);
  pid_t pid = fork();
  if (pid < 0) {
    log.error(what, " hook: fork failed: ", std::strerror(errno));
    return 127;
  }
  if (pid == 0) exec_child(command.c_str(), envp.data());
  setpgid(pid, pid);  // also here: no race with a signal_group() right after fork
  Child child(io, pid);
  int code = wait_for(io, child, what, limits, log);
  if (code == kHookInterrupted)
    log.info(what, " hook stopped");
  else if (code != 0)
    log.error(what, " hook exited with status ", code);
  return code;
}

}  // namespace tund::daemon
