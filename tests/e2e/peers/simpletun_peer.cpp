// A reference peer that speaks the wire format exactly as the original simpletun does, to
// prove interoperability in the test suite: TUN/TAP with IFF_NO_PI, one TCP connection,
// and for every packet a write() of the 2-byte big-endian length followed by a *separate*
// write() of the payload; on receive, read_n(2) then read_n(length). No Nagle tuning,
// blocking I/O, select() over the two descriptors. Deliberately simple: it is a test tool.
//
// usage: simpletun_peer -i IFNAME (-s | -c SERVER_IP) [-p PORT] [-a]
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr int kBufSize = 2000;  // simpletun's BUFSIZE

int die(const char* what) {
  std::perror(what);
  return 1;
}

int tun_alloc(const char* name, int flags) {
  int fd = open("/dev/net/tun", O_RDWR);
  if (fd < 0) return -1;
  ifreq ifr{};
  ifr.ifr_flags = static_cast<short>(flags);
  std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) return -1;
  return fd;
}

// Reads exactly n bytes (simpletun's read_n); returns 0 on EOF.
ssize_t read_n(int fd, char* buf, size_t n) {
  size_t left = n;
  while (left > 0) {
    ssize_t r = read(fd, buf, left);
    if (r <= 0) return r;
    left -= static_cast<size_t>(r);
    buf += r;
  }
  return static_cast<ssize_t>(n);
}

int connect_or_accept(bool server, const char* ip, uint16_t port) {
  int sock = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (!server) {
    inet_pton(AF_INET, ip, &addr.sin_addr);
    if (connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return -1;
    return sock;
  }
  int on = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return -1;
  if (listen(sock, 5) < 0) return -1;
  return accept(sock, nullptr, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  const char* ifname = nullptr;
  const char* remote = nullptr;
  bool server = false;
  int flags = IFF_TUN;
  uint16_t port = 55555;
  int opt;
  while ((opt = getopt(argc, argv, "i:sc:p:ua")) > 0) {
    switch (opt) {
      case 'i':
        ifname = optarg;
        break;
      case 's':
        server = true;
        break;
      case 'c':
        remote = optarg;
        break;
      case 'p':
        port = static_cast<uint16_t>(std::atoi(optarg));
        break;
      case 'u':
        flags = IFF_TUN;
        break;
      case 'a':
        flags = IFF_TAP;
        break;
      default:
        return 2;
    }
  }
  if (!ifname || (server == (remote != nullptr))) {
    std::fprintf(stderr, "usage: simpletun_peer -i IFNAME (-s | -c SERVER_IP) [-p PORT] [-a]\n");
    return 2;
  }
  int tap_fd = tun_alloc(ifname, flags | IFF_NO_PI);
  if (tap_fd < 0) return die("tun_alloc");
  int net_fd = connect_or_accept(server, remote, port);
  if (net_fd < 0) return die("socket");
  char buffer[kBufSize];
  int maxfd = tap_fd > net_fd ? tap_fd : net_fd;
  for (;;) {
    fd_set rd_set;
    FD_ZERO(&rd_set);
    FD_SET(tap_fd, &rd_set);
    FD_SET(net_fd, &rd_set);
    if (select(maxfd + 1, &rd_set, nullptr, nullptr, nullptr) < 0) {
      if (errno == EINTR) continue;
      return die("select");
    }
    if (FD_ISSET(tap_fd, &rd_set)) {
      ssize_t nread = read(tap_fd, buffer, kBufSize);
      if (nread <= 0) return die("read tun");
      uint16_t plength = htons(static_cast<uint16_t>(nread));
      if (write(net_fd, &plength, sizeof plength) != sizeof plength) return die("write length");
      if (write(net_fd, buffer, static_cast<size_t>(nread)) != nread) return die("write frame");
    }
    if (FD_ISSET(net_fd, &rd_set)) {
      uint16_t plength;
      if (read_n(net_fd, reinterpret_cast<char*>(&plength), sizeof plength) <= 0) return 0;
      size_t len = ntohs(plength);
      if (len > sizeof buffer) return die("frame too long");  // simpletun would overflow here
      if (read_n(net_fd, buffer, len) <= 0) return 0;
      if (write(tap_fd, buffer, len) < 0) std::perror("write tun");
    }
  }
}
