#include "tund/daemon/hooks.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace tund::daemon {

std::vector<std::string> hook_environment(const HookContext& c) {
  const config::Config& cfg = *c.config;
  std::string local = cfg.address.substr(0, cfg.address.find('/'));
  std::string prefix = cfg.address.find('/') == std::string::npos
                           ? ""
                           : cfg.address.substr(cfg.address.find('/') + 1);
  return {
      "TUND_IFACE=" + c.iface,
      std::string("TUND_MODE=") + (cfg.device == config::DeviceKind::tap ? "tap" : "tun"),
      std::string("TUND_ROLE=") + (cfg.role == config::Role::server ? "server" : "client"),
      "TUND_MTU=" + std::to_string(c.mtu),
      "TUND_LOCAL_ADDR=" + local,
      "TUND_PREFIX=" + prefix,
      "TUND_PEER_ADDR=" + cfg.peer,
      "TUND_REMOTE=" + cfg.remote_host,
      "TUND_PORT=" + std::to_string(cfg.port),
      std::string("TUND_TRANSPORT=") +
          (cfg.transport == config::TransportKind::udp ? "udp" : "tcp"),
      "TUND_LINK_IP=" + cfg.link_ip,
  };
}

int run_hook(const std::string& what, const std::string& command,
             const std::vector<std::string>& extra, util::Logger& log) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  env_strings.insert(env_strings.end(), extra.begin(), extra.end());
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  log.info("running ", what, " hook: ", command);
  pid_t pid = fork();
  if (pid < 0) {
    log.error(what, " hook: fork failed: ", strerror(errno));
    return 127;
  }
  if (pid == 0) {
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    execve("/bin/sh", const_cast<char* const*>(argv), envp.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code != 0) log.error(what, " hook exited with status ", code);
  return code;
}

}  // namespace tund::daemon
