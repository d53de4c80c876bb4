#include "tund/daemon/hooks.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>

#include "tund/daemon/systemd_notify.hpp"

namespace tund::daemon {
namespace {

bool has(const std::vector<std::string>& env, const std::string& entry) {
  return std::find(env.begin(), env.end(), entry) != env.end();
}

TEST(Hooks, EnvironmentDescribesTheTunnel) {
  config::Config cfg;
  cfg.role = config::Role::client;
  cfg.remote_host = "vpn.example";
  cfg.device = config::DeviceKind::tap;
  cfg.transport = config::TransportKind::udp;
  cfg.address = "10.0.0.2/24";
  cfg.peer = "10.0.0.1";
  cfg.link_ip = "10.0.0.253";
  auto env = hook_environment({&cfg, "tap7", 1400});
  for (const char* entry : {"TUND_IFACE=tap7", "TUND_MODE=tap", "TUND_ROLE=client", "TUND_MTU=1400",
                            "TUND_LOCAL_ADDR=10.0.0.2", "TUND_PREFIX=24", "TUND_PEER_ADDR=10.0.0.1",
                            "TUND_REMOTE=vpn.example", "TUND_PORT=55555", "TUND_TRANSPORT=udp",
                            "TUND_LINK_IP=10.0.0.253"})
    EXPECT_TRUE(has(env, entry)) << entry;
  cfg.role = config::Role::server;
  cfg.device = config::DeviceKind::tun;
  auto server = hook_environment({&cfg, "tun3", 1300});
  EXPECT_TRUE(has(server, "TUND_ROLE=server"));
  EXPECT_TRUE(has(server, "TUND_MODE=tun"));
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

struct HookRuns : ::testing::Test {
  asio::io_context io;
  util::Logger log{util::LogLevel::error, [](util::LogLevel, std::string_view) {}};
  std::string out = ::testing::TempDir() + "/tund-hook.out";
};

TEST_F(HookRuns, RunsWithTheEnvironmentAndReportsTheStatus) {
  EXPECT_EQ(run_hook(io, "up", "echo \"$TUND_IFACE $TUND_MTU\" > " + out,
                     {"TUND_IFACE=tun9", "TUND_MTU=1280"}, log),
            0);
  EXPECT_EQ(first_line(out), "tun9 1280");
  EXPECT_EQ(run_hook(io, "up", "exit 3", {}, log), 3);
}

// None of tund's descriptors reaches a hook: a background child of the hook would keep
// tund's port (or device) after tund exits.
TEST_F(HookRuns, HookSeesOnlyStandardDescriptors) {
  int inherited = ::dup(2);  // no O_CLOEXEC: only the hook runner can keep it out
  ASSERT_GE(inherited, 3);
  EXPECT_EQ(run_hook(io, "up", "exec >" + out + "; ls /proc/$$/fd", {}, log), 0);
  ::close(inherited);
  std::ifstream in(out);
  std::string listing, fd;
  while (in >> fd) listing += fd + " ";
  EXPECT_EQ(listing, "0 1 2 ");
}

TEST_F(HookRuns, TimerAndSignalsKeepRunningWhileAHookRuns) {
  asio::steady_timer timer(io, std::chrono::milliseconds(50));
  bool fired = false;
  timer.async_wait([&](std::error_code) { fired = true; });
  EXPECT_EQ(run_hook(io, "up", "sleep 0.3", {}, log), 0);
  EXPECT_TRUE(fired);
}

TEST_F(HookRuns, InterruptionEndsTheHooksWholeProcessGroup) {
  auto start = std::chrono::steady_clock::now();
  HookLimits limits;
  limits.interrupted = [&] {
    return std::chrono::steady_clock::now() - start > std::chrono::milliseconds(200);
  };
  std::string pidfile = out + ".pid";
  int status = run_hook(io, "up", "sleep 30 & echo $! > " + pidfile + "; wait", {}, log, limits);
  EXPECT_EQ(status, kHookInterrupted);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  std::string child_stat = "/proc/" + first_line(pidfile) + "/stat";
  auto alive = [&] {  // a zombie waiting for its new parent to reap it counts as gone
    std::string stat = first_line(child_stat);
    auto paren = stat.rfind(')');
    return paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] != 'Z';
  };
  for (int i = 0; i < 50 && alive(); ++i) ::usleep(20000);
  EXPECT_FALSE(alive()) << "the hook's background child survived";
}

TEST_F(HookRuns, AHangingHookIsKilledAfterItsTimeLimit) {
  HookLimits limits;
  limits.timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(run_hook(io, "down", "trap '' TERM; sleep 30", {}, log, limits), 128 + SIGKILL);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(SystemdNotify, SendsDatagramsToNotifySocket) {
  std::string path = ::testing::TempDir() + "/tund-notify.sock";
  unlink(path.c_str());
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  setenv("WATCHDOG_USEC", "20000000", 1);
  unsetenv("WATCHDOG_PID");
  {
    SystemdNotifier notifier;
    EXPECT_TRUE(notifier.enabled());
    ASSERT_TRUE(notifier.watchdog_period());
    EXPECT_EQ(*notifier.watchdog_period(), std::chrono::seconds(10));
    notifier.ready("listening");
    notifier.ready("again");  // READY=1 only once
    notifier.watchdog();
    notifier.stopping();
  }
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  std::vector<std::string> got;
  char buf[256];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
    got.emplace_back(buf, static_cast<std::size_t>(n));
  close(fd);
  unlink(path.c_str());
  EXPECT_EQ(got, (std::vector<std::string>{"READY=1\nSTATUS=listening", "STATUS=again",
                                           "WATCHDOG=1", "STOPPING=1\nSTATUS=shutting down"}));
  SystemdNotifier outside;
  EXPECT_FALSE(outside.enabled());
}

}  // namespace
}  // namespace tund::daemon
