// The metrics endpoint on loopback, with a fake snapshot: what it answers for each path
// and method, that it stops with a connection open, and that its port is its own.
#include "tund/daemon/metrics_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "tund/control/render.hpp"
#include "unit/control/sample_status.hpp"

namespace tund::daemon {
namespace {

using control::test::sample_status;

// A plain TCP connection to 127.0.0.1:port that sends nothing (an idle scraper).
int idle_connection(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return fd;
}

class Metrics : public ::testing::Test {
 protected:
  void SetUp() override {
    server.start();
    ASSERT_NE(server.port(), 0);
  }
  httplib::Client client() {
    httplib::Client c("127.0.0.1", server.port());
    c.set_read_timeout(std::chrono::seconds(10));
    return c;
  }

  std::atomic<int> mode{0};  // 0: a status; 1: none (nullopt); 2: throws
  MetricsServer server{"127.0.0.1", 0, [this]() -> std::optional<control::InterfaceStatus> {
                         if (mode == 1) return std::nullopt;
                         if (mode == 2) throw std::runtime_error("snapshot failed");
                         return sample_status();
                       }};
};

TEST_F(Metrics, ServesThePrometheusText) {
  auto res = client().Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, control::render_prometheus({sample_status()}));
  EXPECT_NE(res->body.find("tund_peer_receive_bytes_total"), std::string::npos);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(server.scrapes(), 1u);
}

TEST_F(Metrics, NoStatusIs503AndAFailureIs500) {
  mode = 1;
  auto res = client().Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  mode = 2;
  res = client().Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(server.scrapes(), 0u);
  mode = 0;  // and it still serves
  res = client().Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(Metrics, OtherPathsAre404AndOtherMethods405) {
  auto c = client();
  auto res = c.Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  res = c.Get("/metrics/x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  res = c.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD");
  res = c.Delete("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  res = c.Head("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "");
}

TEST_F(Metrics, RefusesABody) {
  std::string big(64 * 1024, 'x');
  auto res = client().Post("/metrics", big, "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
}

// stop() must return (the daemon's shutdown waits for it) with a scraper's connection
// kept alive and another that never sent anything.
TEST_F(Metrics, StopsWithConnectionsOpen) {
  auto c = client();
  c.set_keep_alive(true);
  auto res = c.Get("/metrics");
  ASSERT_TRUE(res);
  int idle = idle_connection(server.port());
  server.stop();
  server.stop();  // idempotent
  char byte;      // closed (or reset, if never accepted) by the server, not left open
  ssize_t n = ::recv(idle, &byte, 1, MSG_DONTWAIT);
  EXPECT_TRUE(n == 0 || (n < 0 && errno != EAGAIN)) << n << " " << std::strerror(errno);
  ::close(idle);
  EXPECT_FALSE(client().Get("/metrics"));  // nobody listens any more
}

// A scraper that trickles its request (one byte at a time, never finishing the header)
// holds a worker: httplib's timeouts are per read. stop() must still end it at once.
TEST_F(Metrics, StopsWithATricklingRequestBeingRead) {
  int fd = idle_connection(server.port());
  // One whole request first: then the connection is surely accepted and being served.
  std::string get = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, get.data(), get.size(), MSG_NOSIGNAL), static_cast<ssize_t>(get.size()));
  std::string answer;
  char buf[65536];
  while (answer.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    answer.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer.substr(0, 40);
  std::atomic<bool> ended{false};
  std::thread trickler([&] {
    std::string start = "GET /metrics HTTP/1.1\r\nX-Slow: ";
    ::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
    while (::send(fd, "a", 1, MSG_NOSIGNAL) == 1) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0 && ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0) break;
    }
    ended = true;
  });
  server.stop();  // returns only once the worker reading the trickle has ended
  trickler.join();
  EXPECT_TRUE(ended);
  ::close(fd);
}

// httplib's default SO_REUSEPORT would let a second server share the port silently.
TEST_F(Metrics, ASecondServerOnThePortFails) {
  MetricsServer second("127.0.0.1", server.port(), [] { return std::optional(sample_status()); });
  try {
    second.start();
    FAIL() << "a second server bound the same port";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "--metrics-listen 127.0.0.1:" + std::to_string(server.port()) +
                                         ": Address already in use");
  }
}

TEST(MetricsIpv6, ServesOnAnIpv6Literal) {
  MetricsServer server("::1", 0, [] { return std::optional(sample_status()); });
  try {
    server.start();
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  httplib::Client c("::1", server.port());
  auto res = c.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

}  // namespace
}  // namespace tund::daemon
