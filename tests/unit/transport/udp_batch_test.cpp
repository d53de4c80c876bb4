// DatagramBatch against a real UDP socket on loopback: what it queues arrives as the same
// datagrams, whatever mix of sizes, including one too large for any GSO run.
#include "tund/transport/udp_batch.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstring>

namespace tund::transport {
namespace {

struct UdpPair : ::testing::Test {
  int tx = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int rx = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};

  UdpPair() {
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int big = 4 << 20;
    ::setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    EXPECT_EQ(::bind(rx, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    socklen_t len = sizeof to;
    ::getsockname(rx, reinterpret_cast<sockaddr*>(&to), &len);
  }
  ~UdpPair() override {
    ::close(tx);
    ::close(rx);
  }
  void queue(DatagramBatch& batch, std::size_t size, std::uint8_t fill) {
    std::memset(batch.slot(), fill, size);
    batch.commit(size);
  }
  std::vector<std::size_t> received() {
    std::vector<std::size_t> sizes;
    std::vector<char> buf(70000);
    for (;;) {
      ssize_t n = ::recv(rx, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n < 0) break;
      sizes.push_back(static_cast<std::size_t>(n));
    }
    return sizes;
  }
};

TEST_F(UdpPair, ADatagramTooLargeForAnyGsoRunGoesAlone) {
  DatagramBatch batch(65507, true);
  queue(batch, 1400, 1);
  queue(batch, 1400, 2);
  queue(batch, 65400, 3);  // above the 65000 bytes of one GSO run
  queue(batch, 1400, 4);
  auto ec = batch.send(tx, reinterpret_cast<sockaddr*>(&to), sizeof to);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(received(), (std::vector<std::size_t>{1400, 1400, 65400, 1400}));
}

TEST_F(UdpPair, RunsOfEqualSizesArriveAsTheSameDatagrams) {
  DatagramBatch batch(2000, true);
  std::vector<std::size_t> want;
  for (int i = 0; i < 100; ++i) {
    std::size_t size = i % 30 == 29 ? 700 : 1432;
    queue(batch, size, static_cast<std::uint8_t>(i));
    want.push_back(size);
  }
  auto ec = batch.send(tx, reinterpret_cast<sockaddr*>(&to), sizeof to);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(received(), want);
}

}  // namespace
}  // namespace tund::transport
