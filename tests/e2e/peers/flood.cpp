// A hostile client for the flood tests (a test tool, not part of tund):
//   flood udp-random HOST PORT COUNT          COUNT random datagrams (1..1500 bytes)
//   flood udp-replay HOST PORT COUNT FILE     COUNT datagrams replayed from FILE (one hex
//                                             payload per line), every other one bit-flipped
//   flood tcp-junk HOST PORT COUNT SECONDS    COUNT connections, held SECONDS: a sixth idle,
//                                             a third garbage, a third stalled inside a frame,
//                                             a sixth from source ports 20000+ (the test drops
//                                             all but their SYN: half-open at the server);
//                                             reports how many of the others the server closed
// IPv4 only; prints one summary line.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

sockaddr_in target(const char* host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host, &a.sin_addr);
  return a;
}

std::vector<unsigned char> unhex(const std::string& h) {
  std::vector<unsigned char> out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<unsigned char>(std::stoul(h.substr(i, 2), nullptr, 16)));
  return out;
}

int udp_flood(const sockaddr_in& to, long count,
              const std::vector<std::vector<unsigned char>>& replay) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  std::mt19937 rng(12345);
  std::vector<unsigned char> buf(1500);
  long sent = 0;
  for (long i = 0; i < count; ++i) {
    size_t n;
    if (replay.empty()) {
      n = 1 + rng() % 1500;
      for (size_t j = 0; j < n; ++j) buf[j] = static_cast<unsigned char>(rng());
    } else {
      const auto& d = replay[static_cast<size_t>(i) % replay.size()];
      n = d.size();
      std::copy(d.begin(), d.end(), buf.begin());
      if (i % 2 == 1 && n > 0) buf[rng() % n] ^= static_cast<unsigned char>(1u << (rng() % 8));
    }
    if (sendto(fd, buf.data(), n, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) >= 0)
      ++sent;
    if (i % 2000 == 1999) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // pace
  }
  std::printf("sent %ld of %ld datagrams\n", sent, count);
  return 0;
}

int tcp_junk(const sockaddr_in& to, int count, int seconds) {
  std::vector<int> fds;
  std::mt19937 rng(777);
  int refused = 0, half_open = 0;
  for (int i = 0; i < count; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool half = i % 6 == 0;
    if (half) {  // a fixed source port the test's firewall rule starves of ACKs
      sockaddr_in local{};
      local.sin_family = AF_INET;
      local.sin_port = htons(static_cast<uint16_t>(20000 + i / 6));
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local);
      fcntl(fd, F_SETFL, O_NONBLOCK);
      connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);  // SYN only
      ++half_open;
      fds.push_back(-fd);  // not counted below
      continue;
    }
    if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
      ++refused;
      close(fd);
      continue;
    }
    if (i % 3 == 1) {  // garbage
      unsigned char junk[300];
      for (auto& b : junk) b = static_cast<unsigned char>(rng());
      (void)!write(fd, junk, sizeof junk);
    } else if (i % 3 == 2) {  // stalled inside a frame: a length and a few bytes of it
      unsigned char partial[] = {0x00, 0x75, 0x03, 0x00, 0x00};
      (void)!write(fd, partial, sizeof partial);
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    fds.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  int closed_by_server = 0, full = 0;
  for (int fd : fds) {
    if (fd < 0) {
      close(-fd);
      continue;
    }
    ++full;
    char c;
    ssize_t r = read(fd, &c, 1);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) ++closed_by_server;
    close(fd);
  }
  std::printf("opened %d connections (%d refused), %d more half-open; server closed %d of them\n",
              full, refused, half_open, closed_by_server);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: flood udp-random|udp-replay|tcp-junk HOST PORT COUNT [FILE|SECONDS]\n");
    return 2;
  }
  std::string mode = argv[1];
  sockaddr_in to = target(argv[2], std::atoi(argv[3]));
  long count = std::atol(argv[4]);
  if (mode == "udp-random") return udp_flood(to, count, {});
  if (mode == "udp-replay" && argc > 5) {
    std::vector<std::vector<unsigned char>> replay;
    std::ifstream in(argv[5]);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) replay.push_back(unhex(line));
    if (replay.empty()) return 1;
    return udp_flood(to, count, replay);
  }
  if (mode == "tcp-junk" && argc > 5)
    return tcp_junk(to, static_cast<int>(count), std::atoi(argv[5]));
  return 2;
}
