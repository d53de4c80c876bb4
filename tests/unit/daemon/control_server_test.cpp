// The control socket's server (daemon/control_server.hpp) on a real Unix socket under a
// temporary directory, its event loop run by the test: requests answered, the bounds
// (size, deadline, connections), the socket's safe start (stale replaced, live or foreign
// files never taken), its mode and group, and its removal at stop. The clients are plain
// blocking sockets; the loop runs until a client has its whole reply (or is closed).
#include "tund/daemon/control_server.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tund/control/records.hpp"

namespace tund::daemon {
namespace {

using namespace std::chrono_literals;

control::InterfaceStatus fixed_status() {
  control::InterfaceStatus s;
  s.interface = "tun7";
  s.mode = "tun";
  s.role = "hub";
  s.transport = "udp";
  s.listen_port = 51820;
  s.version = "0.1.0";
  s.pid = 42;
  s.mtu = 1420;
  control::PeerStatus alice;
  alice.name = "alice";
  alice.up = true;
  alice.endpoint = "198.18.0.2:40000";
  alice.rx_bytes = 1234;
  alice.cipher = "ChaCha20-Poly1305";
  alice.dropped = {{"queue_full", 0}, {"spoofed", 3}};
  s.peers.push_back(alice);
  return s;
}

// A connected client: blocking writes, non-blocking reads while the test runs the loop.
class Client {
 public:
  explicit Client(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::fcntl(fd_, F_SETFL, O_NONBLOCK);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  void send(const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
      ssize_t n = ::send(fd_, text.data() + done, text.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;  // the server closed on us (a refused request): seen in the reply
      done += static_cast<std::size_t>(n);
    }
  }
  // Reads what has arrived; true once the server closed the connection.
  bool read_some() {
    char buffer[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) {
        reply_.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return closed_ = true;
      return false;
    }
  }
  bool closed() const { return closed_; }
  const std::string& reply() const { return reply_; }

 private:
  int fd_ = -1;
  bool connected_ = false, closed_ = false;
  std::string reply_;
};

struct ControlServerTest : ::testing::Test {
  std::string dir = make_dir();
  std::string path = dir + "/tund/tun7.sock";  // the directory does not exist yet
  asio::io_context io;
  std::vector<std::string> lines;
  util::Logger log{util::LogLevel::info,
                   [this](util::LogLevel, std::string_view text) { lines.emplace_back(text); }};
  std::vector<std::string> disconnected;

  static std::string make_dir() {
    char name[] = "/tmp/tund-control-XXXXXX";
    const char* made = ::mkdtemp(name);
    return made ? made : "";
  }
  ~ControlServerTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  ControlOptions options() const {
    ControlOptions o;
    o.path = path;
    o.own_uid = ::getuid();
    return o;
  }
  ControlHandlers handlers() {
    ControlHandlers h;
    h.show = [] { return fixed_status(); };
    h.reload = [] { return std::string("reloaded: 3 peers"); };
    h.disconnect = [this](const std::string& peer) {
      if (peer != "alice") throw std::runtime_error("no peer '" + peer + "'");
      disconnected.push_back(peer);
      return "disconnected " + peer;
    };
    return h;
  }
  std::unique_ptr<ControlServer> started(ControlOptions o) {
    auto server = std::make_unique<ControlServer>(io, log, std::move(o), handlers());
    server->start();
    return server;
  }
  // Runs the loop until `done` (bounded: a hang fails the test instead of blocking it).
  template <class Done>
  void run_until(Done done) {
    auto give_up = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < give_up) {
      io.restart();
      io.run_for(5ms);
    }
    ASSERT_TRUE(done()) << "the loop did not get there in 5 s";
  }
  std::string ask(const std::string& request) {
    Client client(path);
    EXPECT_TRUE(client.connected());
    client.send(request);
    run_until([&] { return client.read_some(); });
    return client.reply();
  }
  control::Reply ask_parsed(const control::Request& request) {
    return control::parse_reply(ask(control::encode_request(request)));
  }
  bool logged(const std::string& text) const {
    for (const auto& line : lines)
      if (line.find(text) != std::string::npos) return true;
    return false;
  }
};

TEST_F(ControlServerTest, ShowIsAnsweredWithTheStatus) {
  auto server = started(options());
  control::Reply reply = ask_parsed({control::Command::show, ""});
  ASSERT_TRUE(reply.ok) << reply.error;
  ASSERT_TRUE(reply.status.has_value());
  EXPECT_EQ(reply.status->interface, "tun7");
  ASSERT_EQ(reply.status->peers.size(), 1u);
  EXPECT_EQ(reply.status->peers[0].name, "alice");
  EXPECT_EQ(reply.status->peers[0].rx_bytes, 1234u);
  EXPECT_EQ(reply.status->peers[0].dropped.at("spoofed"), 3u);
  EXPECT_EQ(server->stats().requests, 1u);
}

TEST_F(ControlServerTest, ReloadAndDisconnectAnswerTheirMessageOrError) {
  auto server = started(options());
  control::Reply reload = ask_parsed({control::Command::reload, ""});
  EXPECT_TRUE(reload.ok);
  EXPECT_EQ(reload.message, "reloaded: 3 peers");
  control::Reply ok = ask_parsed({control::Command::disconnect, "alice"});
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.message, "disconnected alice");
  control::Reply missing = ask_parsed({control::Command::disconnect, "mallory"});
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.error, "no peer 'mallory'");
  EXPECT_EQ(disconnected, std::vector<std::string>{"alice"});
  EXPECT_EQ(server->stats().requests, 3u);
}

TEST_F(ControlServerTest, AnUnparsableRequestGetsAnErrorAndIsCounted) {
  auto server = started(options());
  control::Reply reply = control::parse_reply(ask("command = dance\n\n"));
  EXPECT_FALSE(reply.ok);
  EXPECT_NE(reply.error.find("bad request"), std::string::npos) << reply.error;
  EXPECT_EQ(server->stats().bad_requests, 1u);
  EXPECT_EQ(server->stats().requests, 0u);
}

TEST_F(ControlServerTest, AnOversizeRequestIsRefused) {
  auto server = started(options());
  std::string reply = ask("command = show\n" + std::string(control::kMaxRequestBytes + 10, 'a'));
  EXPECT_NE(reply.find("request too large"), std::string::npos) << reply;
  EXPECT_EQ(server->stats().bad_requests, 1u);
  EXPECT_EQ(server->stats().requests, 0u);
  EXPECT_TRUE(logged("over 4096 bytes"));
}

TEST_F(ControlServerTest, ASlowClientIsCutAtTheDeadline) {
  ControlOptions o = options();
  o.deadline = 100ms;
  auto server = started(o);
  Client slow(path);
  slow.send("command = sh");  // and never the rest
  run_until([&] { return slow.read_some(); });
  EXPECT_EQ(slow.reply(), "");
  EXPECT_EQ(server->stats().timed_out, 1u);
  EXPECT_EQ(server->stats().requests, 0u);
  // The server still answers the next client.
  EXPECT_TRUE(ask_parsed({control::Command::show, ""}).ok);
}

TEST_F(ControlServerTest, MoreThanMaxClientsAtOnceAreClosedAtAccept) {
  auto server = started(options());
  std::vector<std::unique_ptr<Client>> idle;
  for (std::size_t i = 0; i < kMaxControlClients + 1; ++i) {
    idle.push_back(std::make_unique<Client>(path));
    ASSERT_TRUE(idle.back()->connected());
  }
  run_until([&] { return server->stats().refused_busy == 1; });
  std::size_t closed = 0;
  for (auto& client : idle) {
    if (!client->read_some()) continue;
    ++closed;  // the one over the limit is told why, then closed
    auto reply = control::parse_reply(client->reply());
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "busy: 16 control clients are connected");
  }
  EXPECT_EQ(closed, 1u);  // the others still wait
  idle.clear();           // they go away: there is room again
  run_until([&] {
    Client c(path);
    c.send(control::encode_request({control::Command::show, ""}));
    for (int i = 0; i < 50 && !c.read_some(); ++i) {
      io.restart();
      io.run_for(5ms);
    }
    return c.reply().find("status = ok") != std::string::npos;
  });
}

TEST_F(ControlServerTest, AStaleSocketIsReplaced) {
  {
    auto first = started(options());
  }  // stop() removes it: make a stale one by hand, as a killed tund leaves it
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);  // bound, never listening: connect(2) gets ECONNREFUSED
  ASSERT_TRUE(std::filesystem::is_socket(path));
  auto server = started(options());
  EXPECT_TRUE(ask_parsed({control::Command::show, ""}).ok);
}

TEST_F(ControlServerTest, ALiveSocketIsNeverStolen) {
  auto first = started(options());
  ControlServer second(io, log, options(), handlers());
  try {
    second.start();
    FAIL() << "a second server took a live socket";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("another tund is listening on it"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  second.stop();  // must not remove the first one's socket
  EXPECT_TRUE(ask_parsed({control::Command::show, ""}).ok);
}

TEST_F(ControlServerTest, AFileThatIsNotASocketIsNotTouched) {
  std::filesystem::create_directories(dir + "/tund");
  std::ofstream(path) << "precious\n";
  ControlServer server(io, log, options(), handlers());
  EXPECT_THROW(server.start(), std::runtime_error);
  server.stop();
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "precious");
}

TEST_F(ControlServerTest, TheSocketIsMode0600AndItsDirectory0755) {
  ::umask(0077);  // as the systemd unit sets it
  auto server = started(options());
  ::umask(0022);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777u, 0600u);
  EXPECT_EQ(st.st_uid, ::getuid());
  ASSERT_EQ(::stat((dir + "/tund").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777u, 0755u);
}

// A group the test may give files to: "users" as root, else the test's own group.
std::string usable_group() {
  gid_t gid = ::geteuid() == 0 ? 100 : ::getegid();
  group* g = ::getgrgid(gid);
  return g ? g->gr_name : "";
}

TEST_F(ControlServerTest, WithAGroupTheSocketIs0660AndThatGroups) {
  std::string name = usable_group();
  if (name.empty()) GTEST_SKIP() << "no group to give the socket to";
  ControlOptions o = options();
  o.group = name;
  auto server = started(o);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777u, 0660u);
  EXPECT_EQ(st.st_gid, control_group_id(name, ""));
}

TEST_F(ControlServerTest, AnUnknownGroupIsRefusedBeforeAnythingIsMade) {
  ControlOptions o = options();
  o.group = "no-such-group-tund14";
  ControlServer server(io, log, o, handlers());
  try {
    server.start();
    FAIL() << "started with an unknown group";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no group 'no-such-group-tund14'"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/tund"));
  EXPECT_THROW(control_group_id("no-such-group-tund14", "--control-group: "), std::runtime_error);
}

// A numeric group is an id, as chown(1) and systemd take one (no lookup: it need not
// have a name).
TEST(ControlGroup, ANumberIsTheGroupId) {
  EXPECT_EQ(control_group_id("100", ""), 100u);
  EXPECT_EQ(control_group_id("0", ""), 0u);
  EXPECT_THROW(control_group_id("100x-no-such", ""), std::runtime_error);
}

TEST_F(ControlServerTest, ALiveSocketIsInUseNotTaken) {
  auto first = started(options());
  ControlServer second(io, log, options(), {});
  EXPECT_THROW(second.start(), ControlSocketInUse);
  EXPECT_TRUE(std::filesystem::exists(path)) << "the live socket stays";
}

TEST_F(ControlServerTest, StopRemovesTheSocketOnlyIfItIsStillOurs) {
  auto server = started(options());
  server->stop();
  EXPECT_FALSE(std::filesystem::exists(path));
  // Replaced meanwhile (another tund took over after ours was gone): left alone.
  auto second = started(options());
  std::filesystem::remove(path);
  std::ofstream(path) << "someone else's\n";
  second->stop();
  EXPECT_TRUE(std::filesystem::exists(path));
}

// SO_PEERCRED: a state change from a user that is neither root nor the daemon's own is
// refused, show is not. As root the test makes such a user: a child process that becomes
// nobody, in the socket's group.
TEST_F(ControlServerTest, OnlyRootOrTheDaemonsUserMayChangeState) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);  // mkdtemp's 0700 would keep nobody out
  ControlOptions o = options();
  o.group = usable_group();
  o.own_uid = 0;
  auto server = started(o);
  pid_t child = ::fork();
  if (child == 0) {
    gid_t gid = control_group_id(o.group, "");
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(65534) != 0) ::_exit(3);
    auto asks = [&](control::Command command) {
      Client c(path);
      c.send(control::encode_request(
          {command, command == control::Command::disconnect ? "alice" : ""}));
      for (int i = 0; i < 500 && !c.read_some(); ++i) ::usleep(10000);
      return control::parse_reply(c.reply());
    };
    control::Reply show = asks(control::Command::show);
    control::Reply reload = asks(control::Command::reload);
    control::Reply cut = asks(control::Command::disconnect);
    bool right =
        show.ok && !reload.ok && reload.error == "permission denied: reload needs root" && !cut.ok;
    ::_exit(right ? 0 : 1);
  }
  int status = 0;
  bool ended = false;
  run_until([&] { return ended = ended || ::waitpid(child, &status, WNOHANG) == child; });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(server->stats().denied, 2u);
  EXPECT_EQ(server->stats().requests, 1u);
  EXPECT_TRUE(disconnected.empty());
}

}  // namespace
}  // namespace tund::daemon
