// Server RSS per TCP connection (a measurement, not a test: it prints figures and fails
// only when it cannot measure). One process runs a TcpServer on loopback and N raw client
// sockets against it, and reads its own resident set (/proc/self/statm) at each stage:
//   pending  N connections accepted, none adopted (strangers awaiting a handshake);
//   active   all adopted, each has carried one 1400-byte message each way;
//   idle     the same after two timer ticks without traffic (buffers of idle
//            connections may be released there).
// The client sockets are bare descriptors (no user-space buffers), so the growth is the
// server's. Built from another tree (tests/bench/tcp_memory.sh), it measures that tree.
//   usage: tcp_conn_memory [N=1000]
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "tund/transport/tcp_server.hpp"

namespace {

using namespace tund;

long resident_kib() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

struct Counter : transport::Receiver {
  std::vector<transport::Endpoint> ups;
  std::size_t messages = 0;
  void on_message(const transport::Endpoint&, util::ByteSpan) override { ++messages; }
  void on_endpoint_up(const transport::Endpoint& e) override { ups.push_back(e); }
  void on_endpoint_down(const transport::Endpoint&, const std::string&) override {}
};

void run_until(asio::io_context& io, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  io.restart();
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "tcp_conn_memory: timed out\n");
      std::exit(1);
    }
    io.run_for(std::chrono::milliseconds(5));
  }
}

int connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    std::perror("tcp_conn_memory: connect");
    std::exit(1);
  }
  return fd;
}

// One 1400-byte frame from each client, one back to each; the clients read theirs.
void exchange(asio::io_context& io, transport::TcpServer& server, Counter& rx,
              const std::vector<int>& clients) {
  std::vector<unsigned char> frame(2 + 1400, 0x45);
  frame[0] = 1400 >> 8;
  frame[1] = 1400 & 0xff;
  for (int fd : clients)
    if (::send(fd, frame.data(), frame.size(), 0) != static_cast<ssize_t>(frame.size()))
      std::exit(1);
  run_until(io, [&] { return rx.messages == clients.size(); });
  for (const auto& e : rx.ups) {
    auto slot = server.message_slot(e);
    std::fill_n(slot.begin(), 1400, std::byte{0x45});
    server.commit(e, 1400);
  }
  server.flush();
  std::vector<unsigned char> got(frame.size());
  for (int fd : clients)
    if (::recv(fd, got.data(), got.size(), MSG_WAITALL) != static_cast<ssize_t>(got.size()))
      std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000;
  rlimit fds{};
  getrlimit(RLIMIT_NOFILE, &fds);
  fds.rlim_cur = fds.rlim_max;
  setrlimit(RLIMIT_NOFILE, &fds);
  asio::io_context io;
  util::Logger log(util::LogLevel::error, [](util::LogLevel, std::string_view) {});
  transport::TcpOptions options;
  options.max_pending = n + 1;
  transport::TcpServer server(io, asio::ip::make_address("127.0.0.1"), 0, log, options);
  Counter rx;
  server.start(rx);
  io.poll();
  long before = resident_kib();
  std::vector<int> clients;
  for (std::size_t i = 0; i < n; ++i) {
    clients.push_back(connect_to(server.local_port()));
    if (i % 64 == 63) io.poll();
  }
  run_until(io, [&] { return rx.ups.size() == n; });
  long pending = resident_kib();
  for (const auto& e : rx.ups) server.adopt(e);
  exchange(io, server, rx, clients);
  long active = resident_kib();
  server.run_timers();  // the exchange's tick, then one without traffic
  server.run_timers();
  io.poll();
  long idle = resident_kib();
  auto per = [&](long kib) { return static_cast<double>(kib - before) / static_cast<double>(n); };
  std::printf("connections %zu  base RSS %ld KiB\n", n, before);
  std::printf("pending       RSS %8ld KiB  %8.1f KiB/connection\n", pending, per(pending));
  std::printf("adopted,active RSS %7ld KiB  %8.1f KiB/connection\n", active, per(active));
  std::printf("adopted,idle  RSS %8ld KiB  %8.1f KiB/connection\n", idle, per(idle));
  for (int fd : clients) ::close(fd);
  server.stop();
  return 0;
}
