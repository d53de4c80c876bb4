// The control client against fake daemons: a thread listening on a Unix socket in a temp
// directory, answering one connection with a canned reply (control::encode_*_reply).
#include "tund/daemon/control_client.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "tund/control/records.hpp"
#include "tund/control/render.hpp"
#include "unit/control/sample_status.hpp"

namespace tund::daemon {
namespace {

using control::test::sample_status;

int listen_on(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << path;
  EXPECT_EQ(::listen(fd, 4), 0);
  return fd;
}

// Serves one connection: reads the request (to its blank line), answers `reply` unless
// `answers` is false (then it holds the connection until destroyed), closes.
class FakeDaemon {
 public:
  FakeDaemon(const std::string& path, std::string reply, bool answers = true)
      : listen_fd_(listen_on(path)), reply_(std::move(reply)), answers_(answers) {
    EXPECT_EQ(::pipe(wake_), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeDaemon() {
    finish();
    ::close(listen_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  // Joins the thread; then request() is what the client sent.
  void finish() {
    if (!thread_.joinable()) return;
    EXPECT_EQ(::write(wake_[1], "x", 1), 1);
    thread_.join();
  }
  const std::string& request() const { return request_; }

 private:
  // Waits for `fd` or the wake-up pipe; true when `fd` is ready.
  bool wait(int fd) {
    pollfd p[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    return ::poll(p, 2, -1) > 0 && (p[0].revents & (POLLIN | POLLHUP)) != 0;
  }
  void serve() {
    if (!wait(listen_fd_)) return;
    int conn = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    char buf[4096];
    while (request_.find("\n\n") == std::string::npos && wait(conn)) {
      ssize_t n = ::read(conn, buf, sizeof buf);
      if (n <= 0) break;
      request_.append(buf, static_cast<std::size_t>(n));
    }
    if (answers_)
      ::send(conn, reply_.data(), reply_.size(), MSG_NOSIGNAL);
    else
      wait(wake_[0]);  // until finish(): the client must give up by itself
    ::close(conn);
  }

  int listen_fd_;
  int wake_[2] = {-1, -1};
  std::string reply_;
  bool answers_;
  std::string request_;
  std::thread thread_;
};

class ControlClient : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/tund-ctl.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir = tmpl;
    settings.directory = dir;
    settings.timeout = std::chrono::seconds(10);  // generous: only the hang test waits
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string sock(const std::string& iface) const { return dir + "/" + iface + ".sock"; }
  ControlOutcome run(const std::vector<std::string>& args) const {
    return control_command(args, settings);
  }

  std::string dir;
  ControlClientSettings settings;
};

TEST_F(ControlClient, ShowsOneInterfaceInEachForm) {
  using Render = std::string (*)(const std::vector<control::InterfaceStatus>&);
  const std::pair<const char*, Render> forms[] = {{"", control::render_text},
                                                  {"--json", control::render_json},
                                                  {"--dump", control::render_dump},
                                                  {"--prometheus", control::render_prometheus}};
  for (const auto& [option, render] : forms) {
    FakeDaemon fake(sock("tun0"), control::encode_status_reply(sample_status("tun0")));
    std::vector<std::string> args = {"show", "tun0"};
    if (*option) args.push_back(option);
    ControlOutcome got = run(args);
    fake.finish();
    EXPECT_EQ(got.status, 0) << option << got.err;
    EXPECT_EQ(got.err, "");
    EXPECT_EQ(got.out, render({sample_status("tun0")})) << option;
    EXPECT_NE(got.out, "");
    EXPECT_EQ(fake.request(), control::encode_request(control::Request{}));
    std::filesystem::remove(sock("tun0"));
  }
}

TEST_F(ControlClient, ShowAllAsksEverySocketByNameAndSkipsAStaleOne) {
  FakeDaemon b(sock("tun-b"), control::encode_status_reply(sample_status("tun-b")));
  FakeDaemon a(sock("tun-a"), control::encode_status_reply(sample_status("tun-a")));
  ::close(listen_on(sock("tun-c")));  // a killed tund's socket: nobody listens
  ControlOutcome got = run({"show", "--dump"});
  EXPECT_EQ(got.status, 0) << got.err;
  EXPECT_EQ(got.err, "");
  EXPECT_EQ(got.out, control::render_dump({sample_status("tun-a"), sample_status("tun-b")}));
}

TEST_F(ControlClient, ShowAllReportsAFailingDaemonAndShowsTheOthers) {
  FakeDaemon a(sock("tun-a"), control::encode_error_reply("busy: try again"));
  FakeDaemon b(sock("tun-b"), control::encode_status_reply(sample_status("tun-b")));
  ControlOutcome got = run({"show"});
  EXPECT_EQ(got.status, 1);
  EXPECT_EQ(got.err, "tund: tun-a: busy: try again\n");
  EXPECT_EQ(got.out, control::render_text({sample_status("tun-b")}));
}

TEST_F(ControlClient, NoTundRunningIsNotAnError) {
  settings.directory = dir + "/missing";
  ControlOutcome text = run({"show"});
  EXPECT_EQ(text.status, 0);
  EXPECT_EQ(text.out, "");
  EXPECT_EQ(text.err, "");
  ControlOutcome json = run({"show", "--json"});
  EXPECT_EQ(json.status, 0);
  EXPECT_EQ(json.out, control::render_json({}));
  EXPECT_NE(json.out.find("\"interfaces\""), std::string::npos);
}

TEST_F(ControlClient, NamesTheInterfaceThatHasNoTund) {
  ControlOutcome got = run({"show", "tun9"});
  EXPECT_EQ(got.status, 1);
  EXPECT_EQ(got.err, "tund: no tund is running for 'tun9' (" + sock("tun9") +
                         ": No such file or directory)\n");
  ::close(listen_on(sock("tun8")));
  got = run({"reload", "tun8"});
  EXPECT_EQ(got.status, 1);
  EXPECT_EQ(got.err,
            "tund: no tund is running for 'tun8' (" + sock("tun8") + ": Connection refused)\n");
}

TEST_F(ControlClient, ReportsAnErrorReplyWithTheInterface) {
  FakeDaemon fake(sock("tun0"), control::encode_error_reply("permission denied: root only"));
  ControlOutcome got = run({"reload", "tun0"});
  fake.finish();
  EXPECT_EQ(got.status, 1);
  EXPECT_EQ(got.out, "");
  EXPECT_EQ(got.err, "tund: tun0: permission denied: root only\n");
  control::Request reload;
  reload.command = control::Command::reload;
  EXPECT_EQ(fake.request(), control::encode_request(reload));
}

TEST_F(ControlClient, DisconnectSendsThePeerAndPrintsTheMessage) {
  std::string path = dir + "/elsewhere.sock";  // --control-socket: any name
  FakeDaemon fake(path, control::encode_ok_reply("alice disconnected"));
  ControlOutcome got = run({"disconnect", "tun0", "alice", "--control-socket", path});
  fake.finish();
  EXPECT_EQ(got.status, 0) << got.err;
  EXPECT_EQ(got.out, "alice disconnected\n");
  control::Request req{control::Command::disconnect, "alice"};
  EXPECT_EQ(fake.request(), control::encode_request(req));
}

TEST_F(ControlClient, RefusesAReplyTooLarge) {
  settings.max_reply = 100;
  std::string reply = control::encode_status_reply(sample_status("tun0"));
  ASSERT_GT(reply.size(), 100u);
  FakeDaemon fake(sock("tun0"), reply);
  ControlOutcome got = run({"show", "tun0", "--json"});
  EXPECT_EQ(got.status, 1);
  EXPECT_EQ(got.err, "tund: " + sock("tun0") + ": the reply is longer than 100 bytes; refused\n");
}

TEST_F(ControlClient, GivesUpOnADaemonThatNeverAnswers) {
  settings.timeout = std::chrono::milliseconds(100);
  FakeDaemon fake(sock("tun0"), "", false);
  ControlOutcome got = run({"show", "tun0"});
  EXPECT_EQ(got.status, 1);
  EXPECT_EQ(got.err, "tund: " + sock("tun0") + ": no answer within 100 ms\n");
}

TEST_F(ControlClient, RefusesWhatIsNotATundReply) {
  FakeDaemon fake(sock("tun0"), "HTTP/1.1 400 Bad Request\r\n\r\n");
  ControlOutcome got = run({"show", "tun0"});
  EXPECT_EQ(got.status, 1);
  EXPECT_EQ(got.err.rfind("tund: " + sock("tun0") + ": not a tund reply: ", 0), 0u) << got.err;
}

TEST_F(ControlClient, UsageErrorsAreStatusTwo) {
  const std::vector<std::vector<std::string>> bad = {{"show", "tun0", "tun1"},
                                                     {"show", "--json", "--dump"},
                                                     {"show", "--bogus"},
                                                     {"show", "../etc"},
                                                     {"show", "--control-socket"},
                                                     {"reload"},
                                                     {"reload", "tun0", "x"},
                                                     {"reload", "tun0", "--json"},
                                                     {"disconnect", "tun0"},
                                                     {"disconnect", "tun0", "a\nb"},
                                                     {"disconnect", "tun0", "a", "b"}};
  for (const auto& args : bad) {
    ControlOutcome got = run(args);
    EXPECT_EQ(got.status, 2) << args.back();
    EXPECT_EQ(got.out, "");
    EXPECT_EQ(got.err.rfind("tund: error: " + args[0] + ": ", 0), 0u) << got.err;
    EXPECT_NE(got.err.find("; usage: tund " + args[0]), std::string::npos) << got.err;
  }
}

TEST_F(ControlClient, HelpIsStatusZero) {
  for (const char* command : {"show", "reload", "disconnect"}) {
    ControlOutcome got = run({command, "--help"});
    EXPECT_EQ(got.status, 0);
    EXPECT_EQ(got.out.rfind(std::string("usage: tund ") + command, 0), 0u) << got.out;
    EXPECT_NE(got.out.find("--control-socket"), std::string::npos);
  }
  EXPECT_TRUE(is_control_command("show"));
  EXPECT_FALSE(is_control_command("genkey"));
}

}  // namespace
}  // namespace tund::daemon
