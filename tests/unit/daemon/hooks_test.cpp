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
  cfg.addresses = {{"10.0.0.2/24", "10.0.0.1"}};
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

// Dual stack: every address in TUND_ADDRESSES, the first one (either family) in the plain
// variables, the first of each family in the 4 and 6 ones.
TEST(Hooks, EnvironmentNamesEveryAddressAndTheFirstOfEachFamily) {
  config::Config cfg;
  cfg.addresses = {{"fd00::1/64", ""},
                   {"10.0.0.1/32", "10.0.0.2"},
                   {"fd00:1::1/128", "fd00:1::2"},
                   {"10.1.0.1", ""}};
  cfg.link_ip = "10.0.0.9";
  cfg.link_ip6 = "fd00::9";
  auto env = hook_environment({&cfg, "tun4", 1400});
  for (const char* entry :
       {"TUND_ADDRESSES=fd00::1/64 10.0.0.1/32 fd00:1::1/128 10.1.0.1", "TUND_LOCAL_ADDR=fd00::1",
        "TUND_PREFIX=64", "TUND_PEER_ADDR=", "TUND_LOCAL_ADDR4=10.0.0.1", "TUND_PREFIX4=32",
        "TUND_PEER_ADDR4=10.0.0.2", "TUND_LOCAL_ADDR6=fd00::1", "TUND_PREFIX6=64",
        "TUND_PEER_ADDR6=", "TUND_LINK_IP=10.0.0.9", "TUND_LINK_IP6=fd00::9"})
    EXPECT_TRUE(has(env, entry)) << entry;
  cfg.addresses = {{"fd00:1::1", "fd00:1::2"}};
  auto v6 = hook_environment({&cfg, "tun4", 1400});
  for (const char* entry : {"TUND_ADDRESSES=fd00:1::1", "TUND_LOCAL_ADDR=fd00:1::1",
                            "TUND_PREFIX=", "TUND_PEER_ADDR=fd00:1::2", "TUND_LOCAL_ADDR4=",
                            "TUND_PREFIX4=", "TUND_PEER_ADDR4=", "TUND_PEER_ADDR6=fd00:1::2"})
    EXPECT_TRUE(has(v6, entry)) << entry;
  cfg.addresses.clear();
  auto none = hook_environment({&cfg, "tun4", 1400});
  for (const char* entry : {"TUND_ADDRESSES=", "TUND_LOCAL_ADDR=", "TUND_LOCAL_ADDR6="})
    EXPECT_TRUE(has(none, entry)) << entry;
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

// HookOutput, fed by hand: lines, bounds, the count of what was dropped.
struct HookOutputLines : ::testing::Test {
  std::vector<std::string> lines;
  std::vector<unsigned long> dropped;
  HookOutput::Clock::time_point t0 = HookOutput::Clock::now();
  HookOutput make(HookOutputBounds bounds = {}) {
    return HookOutput({[this](std::string_view l) { lines.emplace_back(l); },
                       [this](unsigned long n) { dropped.push_back(n); }},
                      bounds);
  }
};

TEST_F(HookOutputLines, SplitsAtNewlinesAcrossReadsAndFlushesAPartialLastLine) {
  HookOutput out = make();
  out.feed("one\ntw", t0);
  out.feed("o\r\n\nthr", t0);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", ""}));
  out.feed("ee", t0);
  out.finish(t0);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "", "three"}));
  out.finish(t0);
  EXPECT_EQ(lines.size(), 4u) << "nothing left to flush";
  EXPECT_TRUE(dropped.empty());
}

TEST_F(HookOutputLines, ALongLineIsCutWithAMarkerAndItsRestSkipped) {
  HookOutputBounds bounds;
  bounds.max_line = 8;
  HookOutput out = make(bounds);
  out.feed("12345678\n", t0);  // exactly the limit: whole
  out.feed("abcdefgh", t0);
  out.feed("ijk", t0);
  out.feed(std::string(100000, 'z') + "\nnext\n", t0);
  out.feed("0123456789", t0);
  out.finish(t0);
  EXPECT_EQ(lines, (std::vector<std::string>{"12345678", "abcdefgh [cut: line longer than 8 bytes]",
                                             "next", "01234567 [cut: line longer than 8 bytes]"}));
}

TEST_F(HookOutputLines, BeyondTheLinesPerWindowOnlyACountIsReported) {
  HookOutputBounds bounds;
  bounds.lines_per_window = 3;
  bounds.window = std::chrono::seconds(10);
  HookOutput out = make(bounds);
  for (int i = 0; i < 10; ++i) out.feed("line " + std::to_string(i) + "\n", t0);
  EXPECT_EQ(lines.size(), 3u);
  EXPECT_TRUE(dropped.empty()) << "reported when the window ends, not per line";
  out.feed("later\n", t0 + std::chrono::seconds(11));
  EXPECT_EQ(dropped, std::vector<unsigned long>{7});
  EXPECT_EQ(lines.back(), "later");
  for (int i = 0; i < 5; ++i) out.feed("x\n", t0 + std::chrono::seconds(12));
  out.finish(t0 + std::chrono::seconds(12));
  EXPECT_EQ(dropped, (std::vector<unsigned long>{7, 3})) << "the rest reported at the end";
}

// run_hook() with a Logger that keeps what it is given.
struct HookLogs : ::testing::Test {
  asio::io_context io;
  std::vector<std::pair<util::LogLevel, std::string>> logged;
  util::Logger log{util::LogLevel::debug, [this](util::LogLevel level, std::string_view text) {
                     logged.emplace_back(level, std::string(text));
                   }};
  bool has_line(util::LogLevel level, const std::string& text) const {
    return std::find(logged.begin(), logged.end(), std::make_pair(level, text)) != logged.end();
  }
  std::size_t count_prefix(const std::string& prefix) const {
    return static_cast<std::size_t>(std::count_if(
        logged.begin(), logged.end(), [&](auto& e) { return e.second.rfind(prefix, 0) == 0; }));
  }
};

TEST_F(HookLogs, StdoutIsLoggedAtInfoAndStderrAtWarningLineByLine) {
  EXPECT_EQ(
      run_hook(io, "down", "echo out; echo err >&2; printf 'multi\\nline\\npartial' >&2; exit 4",
               {}, log),
      4);
  EXPECT_TRUE(has_line(util::LogLevel::info, "hook down: out"));
  for (const char* line :
       {"hook down: err", "hook down: multi", "hook down: line", "hook down: partial"})
    EXPECT_TRUE(has_line(util::LogLevel::warn, line)) << line;
  // The output comes before the status line, in the order the hook wrote it per stream.
  ASSERT_FALSE(logged.empty());
  EXPECT_EQ(logged.back().second, "down hook exited with status 4");
}

// A failed --up hook is reported once, by start-up ("the --up hook failed ...; not
// starting"), not also here.
TEST_F(HookLogs, AFailedUpHookLeavesTheReportToStartUp) {
  EXPECT_EQ(run_hook(io, "up", "echo err >&2; exit 4", {}, log), 4);
  EXPECT_TRUE(has_line(util::LogLevel::warn, "hook up: err"));
  EXPECT_EQ(count_prefix("up hook exited"), 0u);
}

TEST_F(HookLogs, AShellErrorIsAWarning) {
  EXPECT_NE(run_hook(io, "down", "if then", {}, log), 0);
  EXPECT_EQ(count_prefix("hook down: "), 1u);
  auto it = std::find_if(logged.begin(), logged.end(),
                         [](auto& e) { return e.second.rfind("hook down: ", 0) == 0; });
  ASSERT_NE(it, logged.end());
  EXPECT_EQ(it->first, util::LogLevel::warn) << it->second;
}

TEST_F(HookLogs, MegabytesOfOutputAreReadButNotAllLogged) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(
      run_hook(io, "up", "yes 0123456789 | head -n 200000; head -c 3000000 /dev/zero", {}, log), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  HookOutputBounds bounds;
  EXPECT_LE(count_prefix("hook up: "), bounds.lines_per_window + 1);
  EXPECT_GE(count_prefix("hook up: "), bounds.lines_per_window);
  // 200000 lines of `yes` and one of NULs (cut), less the 500 logged.
  EXPECT_EQ(count_prefix("hook up: 199501 lines of its output not logged"), 1u);
}

// A background process that keeps the hook's stdout open must not hold tund: once the
// hook has exited, its output is read for a short grace only.
TEST_F(HookLogs, ABackgroundChildHoldingTheOutputDoesNotHoldTund) {
  std::string pidfile = ::testing::TempDir() + "/tund-hook-bg.pid";
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(run_hook(io, "up", "sleep 30 & echo $! > " + pidfile + "; echo started", {}, log), 0);
  auto took = std::chrono::steady_clock::now() - start;
  std::string pid = first_line(pidfile);
  if (!pid.empty()) ::kill(std::stoi(pid), SIGKILL);
  EXPECT_LT(took, std::chrono::seconds(10));
  EXPECT_TRUE(has_line(util::LogLevel::info, "hook up: started"));
  EXPECT_EQ(count_prefix("up hook has exited, but a process it started still holds its output"),
            1u);
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
