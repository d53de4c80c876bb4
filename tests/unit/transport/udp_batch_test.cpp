// DatagramBatch against a real UDP socket on loopback: what it queues arrives as the same
// datagrams, in order, whatever mix of sizes, including one too large for any GSO run; the
// sendmmsg calls it makes (GSO runs, entries, syscalls) are watched through its SendMmsg
// seam, which also injects the errors loopback cannot provoke (EAGAIN, ENETUNREACH).
#include "tund/transport/udp_batch.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include "support/manual_clock.hpp"
#include "tund/proto/timers.hpp"

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
    for (const Arrival& a : arrivals()) sizes.push_back(a.size);
    return sizes;
  }
  // What arrived, in order: each datagram's size and fill byte (every byte must be the
  // fill, so a datagram cut from the wrong place of the buffer shows).
  struct Arrival {
    std::size_t size;
    int fill;  // -1: the bytes were not all the same
    bool operator==(const Arrival&) const = default;
    friend void PrintTo(const Arrival& a, std::ostream* os) { *os << a.size << "x" << a.fill; }
  };
  std::vector<Arrival> arrivals() {
    std::vector<Arrival> got;
    std::vector<unsigned char> buf(70000);
    for (;;) {
      ssize_t n = ::recv(rx, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n < 0) break;
      auto size = static_cast<std::size_t>(n);
      bool same = std::all_of(buf.begin(), buf.begin() + n, [&](auto b) { return b == buf[0]; });
      got.push_back({size, size == 0 ? 0 : same ? buf[0] : -1});
    }
    return got;
  }
  std::error_code send(DatagramBatch& batch) {
    return batch.send(tx, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
};

// Watches each sendmmsg call (entries, their datagram counts via the GSO segment size) and
// plays a script: per call, pass it to the kernel, pass only its first entry, or fail it
// with an errno.
struct Sender {
  static constexpr int kPass = 0, kFirstOnly = -1;
  struct Entry {
    std::size_t bytes;
    std::size_t segment;        // 0: not a GSO send
    std::uint16_t to_port = 0;  // its destination's port (compared only when asked)
    bool operator==(const Entry& o) const { return bytes == o.bytes && segment == o.segment; }
    friend void PrintTo(const Entry& e, std::ostream* os) {
      *os << e.bytes << " bytes/" << e.segment << " to :" << e.to_port;
    }
  };
  std::vector<std::vector<Entry>> calls;
  std::deque<int> script;

  DatagramBatch::SendMmsg fn() {
    return [this](int fd, mmsghdr* messages, unsigned count, int flags) {
      record(messages, count);
      int action = kPass;
      if (!script.empty()) {
        action = script.front();
        script.pop_front();
      }
      if (action > 0) {
        errno = action;
        return -1;
      }
      return ::sendmmsg(fd, messages, action == kFirstOnly ? 1 : count, flags);
    };
  }
  void record(mmsghdr* messages, unsigned count) {
    std::vector<Entry> entries;
    for (unsigned i = 0; i < count; ++i) {
      msghdr& h = messages[i].msg_hdr;
      Entry e{0, 0};
      for (std::size_t k = 0; k < h.msg_iovlen; ++k) e.bytes += h.msg_iov[k].iov_len;
      e.to_port = h.msg_name ? ntohs(static_cast<sockaddr_in*>(h.msg_name)->sin_port) : 0;
      for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
        if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_SEGMENT) continue;
        std::uint16_t segment;
        std::memcpy(&segment, CMSG_DATA(c), sizeof segment);
        e.segment = segment;
      }
      entries.push_back(e);
    }
    calls.push_back(entries);
  }
};

std::vector<UdpPair::Arrival> filled(std::size_t size, int first, int count) {
  std::vector<UdpPair::Arrival> want;
  for (int i = 0; i < count; ++i) want.push_back({size, first + i});
  return want;
}

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

TEST_F(UdpPair, ARunOfEqualSizesIsOneGsoSendInOneSyscall) {
  Sender sender;
  DatagramBatch batch(2000, true, util::steady_clock(), sender.fn());
  for (int i = 0; i < 20; ++i) queue(batch, 1400, static_cast<std::uint8_t>(i + 1));
  EXPECT_FALSE(send(batch));
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.syscalls(), 1u);
  ASSERT_EQ(sender.calls.size(), 1u);
  EXPECT_EQ(sender.calls[0], (std::vector<Sender::Entry>{{20 * 1400, 1400}}));
  EXPECT_EQ(arrivals(), filled(1400, 1, 20));
  EXPECT_EQ(batch.dropped(), 0u);
}

TEST_F(UdpPair, MixedSizesGoAsRunsEndingInAShorterOneInOneSyscall) {
  Sender sender;
  DatagramBatch batch(2000, true, util::steady_clock(), sender.fn());
  std::vector<std::size_t> sizes{1000, 1000, 500, 1200, 1200, 1200, 300, 1500, 900};
  std::vector<Arrival> want;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    queue(batch, sizes[i], static_cast<std::uint8_t>(10 + i));
    want.push_back({sizes[i], static_cast<int>(10 + i)});
  }
  EXPECT_FALSE(send(batch));
  EXPECT_EQ(batch.syscalls(), 1u);
  // A run is cut after a shorter datagram and before a larger one.
  ASSERT_EQ(sender.calls.size(), 1u);
  EXPECT_EQ(sender.calls[0],
            (std::vector<Sender::Entry>{{2500, 1000}, {3900, 1200}, {2400, 1500}}));
  EXPECT_EQ(arrivals(), want);
}

TEST_F(UdpPair, ARunLongerThanAGsoSendAllowsIsSplitIntoSeveralEntries) {
  Sender sender;
  DatagramBatch batch(2000, true, util::steady_clock(), sender.fn());
  for (int i = 0; i < 120; ++i) queue(batch, 500, static_cast<std::uint8_t>(i + 1));
  EXPECT_FALSE(send(batch));
  EXPECT_EQ(batch.syscalls(), 1u);
  // 64 segments at most per GSO send (Linux's UDP_MAX_SEGMENTS).
  ASSERT_EQ(sender.calls.size(), 1u);
  EXPECT_EQ(sender.calls[0], (std::vector<Sender::Entry>{{64 * 500, 500}, {56 * 500, 500}}));
  EXPECT_EQ(arrivals(), filled(500, 1, 120));
}

// A second receiver, for batches with several destinations.
struct UdpTrio : UdpPair {
  int rx2 = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to2{};
  UdpTrio() {
    to2.sin_family = AF_INET;
    to2.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(rx2, reinterpret_cast<sockaddr*>(&to2), sizeof to2), 0);
    socklen_t len = sizeof to2;
    ::getsockname(rx2, reinterpret_cast<sockaddr*>(&to2), &len);
  }
  ~UdpTrio() override { ::close(rx2); }
  void queue_to(DatagramBatch& batch, const sockaddr_in& dest, std::size_t size,
                std::uint8_t fill) {
    std::memset(batch.slot(), fill, size);
    batch.commit(size, reinterpret_cast<const sockaddr*>(&dest), sizeof dest);
  }
  std::vector<Arrival> arrivals_at(int fd) {
    std::swap(rx, fd);
    auto got = arrivals();
    std::swap(rx, fd);
    return got;
  }
};

// Interleaved destinations (a hub's device packets): one sendmmsg for the whole batch,
// grouped per destination so each one's equal sizes are still one GSO send, and each
// destination receives its own datagrams in order.
TEST_F(UdpTrio, InterleavedDestinationsAreOneSyscallWithAGsoRunEach) {
  Sender sender;
  DatagramBatch batch(2000, true, util::steady_clock(), sender.fn());
  for (int i = 0; i < 20; ++i) {
    queue_to(batch, to, 1400, static_cast<std::uint8_t>(i + 1));
    queue_to(batch, to2, 1400, static_cast<std::uint8_t>(i + 101));
  }
  EXPECT_FALSE(batch.send(tx, nullptr, 0));
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.syscalls(), 1u);
  ASSERT_EQ(sender.calls.size(), 1u);
  ASSERT_EQ(sender.calls[0], (std::vector<Sender::Entry>{{20 * 1400, 1400}, {20 * 1400, 1400}}));
  EXPECT_EQ(sender.calls[0][0].to_port, ntohs(to.sin_port)) << "the first destination first";
  EXPECT_EQ(sender.calls[0][1].to_port, ntohs(to2.sin_port));
  EXPECT_EQ(arrivals_at(rx), filled(1400, 1, 20));
  EXPECT_EQ(arrivals_at(rx2), filled(1400, 101, 20));
}

// Without GSO: one entry per datagram, still one syscall, each to its own address.
TEST_F(UdpTrio, WithoutGsoInterleavedDestinationsAreStillOneSyscall) {
  Sender sender;
  DatagramBatch batch(2000, false, util::steady_clock(), sender.fn());
  queue_to(batch, to, 100, 1);
  queue_to(batch, to2, 200, 2);
  queue_to(batch, to, 300, 3);
  EXPECT_FALSE(batch.send(tx, nullptr, 0));
  EXPECT_EQ(batch.syscalls(), 1u);
  ASSERT_EQ(sender.calls.size(), 1u);
  EXPECT_EQ(sender.calls[0], (std::vector<Sender::Entry>{{100, 0}, {300, 0}, {200, 0}}));
  EXPECT_EQ(arrivals_at(rx), (std::vector<Arrival>{{100, 1}, {300, 3}}));
  EXPECT_EQ(arrivals_at(rx2), (std::vector<Arrival>{{200, 2}}));
}

// EAGAIN part-way through a mixed batch: what is left, and what is committed meanwhile,
// goes in the next send, each destination still in order.
TEST_F(UdpTrio, AMixedBatchResumesAfterEagainInOrderPerDestination) {
  Sender sender;
  sender.script = {Sender::kFirstOnly, EAGAIN};
  DatagramBatch batch(2000, false, util::steady_clock(), sender.fn());
  queue_to(batch, to, 100, 1);
  queue_to(batch, to2, 200, 2);
  queue_to(batch, to, 300, 3);
  EXPECT_EQ(batch.send(tx, nullptr, 0), std::errc::operation_would_block);
  EXPECT_EQ(batch.queued(), 2u);
  queue_to(batch, to2, 400, 4);
  queue_to(batch, to, 500, 5);
  EXPECT_FALSE(batch.send(tx, nullptr, 0));
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(arrivals_at(rx), (std::vector<Arrival>{{100, 1}, {300, 3}, {500, 5}}));
  EXPECT_EQ(arrivals_at(rx2), (std::vector<Arrival>{{200, 2}, {400, 4}}));
}

// An error for one destination drops that entry only and names it; the others stay queued.
TEST_F(UdpTrio, AnErrorNamesTheDestinationItWasFor) {
  Sender sender;
  sender.script = {Sender::kFirstOnly, EHOSTUNREACH};
  DatagramBatch batch(2000, false, util::steady_clock(), sender.fn());
  queue_to(batch, to, 100, 1);
  queue_to(batch, to2, 200, 2);
  queue_to(batch, to, 300, 3);
  EXPECT_EQ(batch.send(tx, nullptr, 0), std::errc::host_unreachable);
  socklen_t size = 0;
  const sockaddr* failed = batch.failed_to(size);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(reinterpret_cast<const sockaddr_in*>(failed)->sin_port, to.sin_port)
      << "grouped: the second entry is the first destination's second datagram";
  EXPECT_EQ(batch.dropped(), 1u);
  EXPECT_EQ(batch.queued(), 1u);
  EXPECT_FALSE(batch.send(tx, nullptr, 0));
  EXPECT_EQ(arrivals_at(rx), (std::vector<Arrival>{{100, 1}}));
  EXPECT_EQ(arrivals_at(rx2), (std::vector<Arrival>{{200, 2}}));
}

TEST_F(UdpPair, WithoutGsoEveryDatagramIsItsOwnEntryOfOneSyscall) {
  Sender sender;
  DatagramBatch batch(2000, false, util::steady_clock(), sender.fn());
  EXPECT_FALSE(batch.gso());
  for (int i = 0; i < 10; ++i) queue(batch, 1400, static_cast<std::uint8_t>(i + 1));
  EXPECT_FALSE(send(batch));
  EXPECT_EQ(batch.syscalls(), 1u);
  ASSERT_EQ(sender.calls.size(), 1u);
  EXPECT_EQ(sender.calls[0], std::vector<Sender::Entry>(10, {1400, 0}));
  EXPECT_EQ(arrivals(), filled(1400, 1, 10));
}

// The kernel refuses UDP GSO on a socket that does not checksum (SO_NO_CHECK: EINVAL,
// udp_send_skb), as it refuses a segment above the path MTU: a refusal for the send's
// shape, which loopback provokes without root.
TEST_F(UdpPair, AGsoSendRefusedForItsShapeGoesAgainOneByOneAndLaterReprobes) {
  int on = 1;
  ASSERT_EQ(::setsockopt(tx, SOL_SOCKET, SO_NO_CHECK, &on, sizeof on), 0);
  Sender sender;
  testing::ManualClock clock;
  DatagramBatch batch(2000, true, clock, sender.fn());
  for (int i = 0; i < 5; ++i) queue(batch, 1400, static_cast<std::uint8_t>(i + 1));
  EXPECT_FALSE(send(batch));
  EXPECT_EQ(arrivals(), filled(1400, 1, 5));
  EXPECT_EQ(batch.syscalls(), 2u);  // the refused GSO send, then five single datagrams
  ASSERT_EQ(sender.calls.size(), 2u);
  EXPECT_EQ(sender.calls[0], (std::vector<Sender::Entry>{{5 * 1400, 1400}}));
  EXPECT_EQ(sender.calls[1], std::vector<Sender::Entry>(5, {1400, 0}));
  EXPECT_EQ(batch.gso_limit(), 1399u);
  EXPECT_NE(batch.take_notice().find("UDP GSO refused for 1400-byte datagrams"), std::string::npos);
  EXPECT_EQ(batch.dropped(), 0u);

  // That size and larger now go one by one at once; smaller ones still as a run.
  for (int i = 0; i < 3; ++i) queue(batch, 1500, static_cast<std::uint8_t>(i + 1));
  EXPECT_FALSE(send(batch));
  EXPECT_EQ(sender.calls.back(), std::vector<Sender::Entry>(3, {1500, 0}));
  EXPECT_EQ(arrivals(), filled(1500, 1, 3));
  EXPECT_TRUE(batch.take_notice().empty());  // said once

  // Past kGsoReprobe the size is tried again (refused again: no second notice).
  clock.advance(proto::kGsoReprobe + std::chrono::seconds(1));
  for (int i = 0; i < 2; ++i) queue(batch, 1400, static_cast<std::uint8_t>(i + 1));
  EXPECT_FALSE(send(batch));
  ASSERT_GE(sender.calls.size(), 2u);
  EXPECT_EQ(sender.calls[sender.calls.size() - 2], (std::vector<Sender::Entry>{{2800, 1400}}));
  EXPECT_EQ(arrivals(), filled(1400, 1, 2));
  EXPECT_TRUE(batch.take_notice().empty());
}

TEST_F(UdpPair, EagainKeepsTheRestQueuedForTheNextSend) {
  Sender sender;
  DatagramBatch batch(2000, false, util::steady_clock(), sender.fn());
  for (int i = 0; i < 4; ++i) queue(batch, 800, static_cast<std::uint8_t>(i + 1));
  sender.script = {Sender::kFirstOnly, EAGAIN};
  auto ec = send(batch);
  EXPECT_EQ(ec, std::errc::operation_would_block);
  EXPECT_EQ(classify_send_error(ec), SendFault::would_block);
  EXPECT_EQ(batch.queued(), 3u);
  EXPECT_EQ(batch.dropped(), 0u);
  EXPECT_EQ(arrivals(), filled(800, 1, 1));
  EXPECT_FALSE(send(batch));  // writable again
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(arrivals(), filled(800, 2, 3));
  EXPECT_EQ(batch.syscalls(), 3u);
}

TEST_F(UdpPair, ADatagramLargerThanUdpAllowsIsDroppedAndCountedTheRestGoes) {
  DatagramBatch batch(70000, true);
  queue(batch, 1400, 1);
  queue(batch, 65508, 2);  // one byte over the largest IPv4 UDP payload
  queue(batch, 1400, 3);
  EXPECT_FALSE(send(batch));
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.oversize(), 1u);
  EXPECT_EQ(batch.dropped(), 1u);
  EXPECT_EQ(arrivals(), (std::vector<Arrival>{{1400, 1}, {1400, 3}}));
}

TEST_F(UdpPair, AnotherErrorDropsTheFailedEntryOnlyAndIsReturned) {
  Sender sender;
  DatagramBatch batch(2000, true, util::steady_clock(), sender.fn());
  for (int i = 0; i < 3; ++i) queue(batch, 1000, static_cast<std::uint8_t>(i + 1));
  queue(batch, 1200, 4);
  sender.script = {ENETUNREACH};
  auto ec = send(batch);
  EXPECT_EQ(classify_send_error(ec), SendFault::no_route);
  EXPECT_EQ(batch.dropped(), 3u);  // the GSO run of three
  EXPECT_EQ(batch.oversize(), 0u);
  EXPECT_EQ(batch.queued(), 1u);
  EXPECT_FALSE(send(batch));
  EXPECT_EQ(arrivals(), (std::vector<Arrival>{{1200, 4}}));
}

TEST_F(UdpPair, ALateConnectionRefusedIsRetriedOnceThenReturned) {
  Sender sender;
  DatagramBatch batch(2000, false, util::steady_clock(), sender.fn());
  queue(batch, 100, 1);
  sender.script = {ECONNREFUSED};
  EXPECT_FALSE(send(batch));  // the error was an earlier datagram's: this one still goes
  EXPECT_EQ(arrivals(), filled(100, 1, 1));
  queue(batch, 100, 2);
  sender.script = {ECONNREFUSED, ECONNREFUSED};
  auto ec = send(batch);
  EXPECT_EQ(classify_send_error(ec), SendFault::refused);
  EXPECT_EQ(batch.dropped(), 1u);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(sender.calls.size(), 4u);
}

TEST_F(UdpPair, AnInterruptedSendIsRepeated) {
  Sender sender;
  DatagramBatch batch(2000, true, util::steady_clock(), sender.fn());
  queue(batch, 300, 7);
  sender.script = {EINTR};
  EXPECT_FALSE(send(batch));
  EXPECT_EQ(batch.syscalls(), 2u);
  EXPECT_EQ(arrivals(), filled(300, 7, 1));
}

}  // namespace
}  // namespace tund::transport
