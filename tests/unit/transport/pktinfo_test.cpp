// Sticky source addresses (pktinfo.hpp): the control messages written for a send read back
// as the same address (IPv4, IPv6, a link-local one with its interface, a v4-mapped one
// as IPv4); and, over loopback (127.0.0.0/8 is all this host's), a wildcard-bound socket
// learns which of its addresses a datagram was sent to and answers from it, so a client
// connected to 127.0.0.2 hears the answer that the route would have sent from 127.0.0.1.
// A source the host does not have is forgotten and the datagram goes from the kernel's
// choice.
#include "tund/transport/pktinfo.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "tund/transport/udp_batch.hpp"

namespace tund::transport {
namespace {

asio::ip::address round_trip(const asio::ip::address& source) {
  alignas(cmsghdr) char control[kPktinfoSpace] = {};
  std::size_t used = write_pktinfo(reinterpret_cast<cmsghdr*>(control), source);
  EXPECT_LE(used, sizeof control);
  asio::ip::address got;
  EXPECT_TRUE(read_pktinfo(*reinterpret_cast<cmsghdr*>(control), got));
  return got;
}

TEST(Pktinfo, WrittenSourcesReadBackAsTheSameAddress) {
  for (const char* text : {"198.18.0.3", "fd00:198:18::8000:1", "2001:db8::1"}) {
    auto address = asio::ip::make_address(text);
    EXPECT_EQ(round_trip(address), address) << text;
  }
}

TEST(Pktinfo, IPv4IsSentAsIpPktinfoWithNoInterface) {
  alignas(cmsghdr) char control[kPktinfoSpace] = {};
  auto* c = reinterpret_cast<cmsghdr*>(control);
  EXPECT_EQ(write_pktinfo(c, asio::ip::make_address("198.18.0.3")), CMSG_SPACE(sizeof(in_pktinfo)));
  EXPECT_EQ(c->cmsg_level, IPPROTO_IP);
  EXPECT_EQ(c->cmsg_type, IP_PKTINFO);
  in_pktinfo info;
  std::memcpy(&info, CMSG_DATA(c), sizeof info);
  EXPECT_EQ(ntohl(info.ipi_spec_dst.s_addr), 0xc6120003u);
  EXPECT_EQ(info.ipi_ifindex, 0) << "the route picks the interface";
}

TEST(Pktinfo, OnlyALinkLocalAddressNamesItsInterface) {
  alignas(cmsghdr) char control[kPktinfoSpace] = {};
  auto* c = reinterpret_cast<cmsghdr*>(control);
  auto link_local = asio::ip::make_address_v6("fe80::1");
  link_local.scope_id(7);
  EXPECT_EQ(write_pktinfo(c, link_local), CMSG_SPACE(sizeof(in6_pktinfo)));
  EXPECT_EQ(c->cmsg_level, IPPROTO_IPV6);
  EXPECT_EQ(c->cmsg_type, IPV6_PKTINFO);
  in6_pktinfo info;
  std::memcpy(&info, CMSG_DATA(c), sizeof info);
  EXPECT_EQ(info.ipi6_ifindex, 7u);
  EXPECT_EQ(round_trip(link_local), asio::ip::address(link_local));
  EXPECT_EQ(round_trip(asio::ip::make_address("2001:db8::1")).to_v6().scope_id(), 0u);
}

TEST(Pktinfo, AReceivedV4MappedAddressIsIPv4) {
  alignas(cmsghdr) char control[kPktinfoSpace] = {};
  auto* c = reinterpret_cast<cmsghdr*>(control);
  write_pktinfo(c, asio::ip::make_address("::ffff:198.18.0.3"));
  asio::ip::address got;
  ASSERT_TRUE(read_pktinfo(*c, got));
  EXPECT_EQ(got, asio::ip::make_address("198.18.0.3"));
}

TEST(Pktinfo, NothingIsWrittenForTheKernelsChoiceAndOtherMessagesAreNotRead) {
  alignas(cmsghdr) char control[kPktinfoSpace] = {};
  auto* c = reinterpret_cast<cmsghdr*>(control);
  EXPECT_EQ(write_pktinfo(c, asio::ip::address_v6::any()), 0u);
  EXPECT_EQ(write_pktinfo(c, asio::ip::address_v4::any()), 0u);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  auto untouched = asio::ip::make_address("192.0.2.9"), got = untouched;
  EXPECT_FALSE(read_pktinfo(*c, got));
  c->cmsg_level = IPPROTO_IP;  // an IP_PKTINFO too short to hold one
  c->cmsg_type = IP_PKTINFO;
  EXPECT_FALSE(read_pktinfo(*c, got));
  EXPECT_EQ(got, untouched);
}

// A dual-stack server socket on [::] and a client socket connected to 127.0.0.2, which is
// this host's but not the source the route picks for 127.0.0.1 (that is 127.0.0.1).
struct Multihomed : ::testing::Test {
  int server = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int client = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 server_address{};

  Multihomed() {
    int off = 0;
    ::setsockopt(server, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    server_address.sin6_family = AF_INET6;  // [::], port chosen by the kernel
    EXPECT_EQ(::bind(server, reinterpret_cast<sockaddr*>(&server_address), sizeof server_address),
              0);
    socklen_t len = sizeof server_address;
    ::getsockname(server, reinterpret_cast<sockaddr*>(&server_address), &len);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = server_address.sin6_port;
    to.sin_addr.s_addr = htonl(0x7f000002);  // 127.0.0.2
    EXPECT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  }
  ~Multihomed() override {
    ::close(server);
    ::close(client);
  }

  // The client's hello, as the server's receiver sees it.
  void hello(DatagramReceiver& receiver, sockaddr_storage& from, socklen_t& from_size,
             asio::ip::address& local) {
    ASSERT_EQ(::send(client, "hi", 2, 0), 2);
    std::size_t seen = 0;
    for (int i = 0; i < 100 && seen == 0; ++i) {
      receiver.receive(
          [&](util::ByteSpan, const sockaddr* f, socklen_t size, bool, const asio::ip::address& l) {
            std::memcpy(&from, f, size);
            from_size = size;
            local = l;
            ++seen;
          });
      if (seen == 0) ::usleep(10000);
    }
    ASSERT_EQ(seen, 1u);
  }
  bool client_hears(std::size_t size) {
    char buf[256];
    for (int i = 0; i < 100; ++i) {
      ssize_t n = ::recv(client, buf, sizeof buf, MSG_DONTWAIT);
      if (n >= 0) return static_cast<std::size_t>(n) == size;
      ::usleep(10000);
    }
    return false;
  }
  static void queue(DatagramBatch& batch, std::size_t size, const sockaddr_storage& to,
                    socklen_t to_size, const asio::ip::address& source) {
    std::memset(batch.slot(), 7, size);
    batch.commit(size, reinterpret_cast<const sockaddr*>(&to), to_size, source);
  }
};

TEST_F(Multihomed, AnswersLeaveFromTheAddressTheClientSentTo) {
  DatagramReceiver receiver(server, false, true);
  ASSERT_TRUE(receiver.pktinfo());
  sockaddr_storage from{};
  socklen_t from_size = 0;
  asio::ip::address local;
  hello(receiver, from, from_size, local);
  EXPECT_EQ(local, asio::ip::make_address("127.0.0.2")) << "IPv4 through a dual-stack socket";
  DatagramBatch batch(1500, true);
  for (int i = 0; i < 3; ++i) queue(batch, 100, from, from_size, local);  // one GSO run
  queue(batch, 60, from, from_size, local);
  EXPECT_FALSE(batch.send(server, nullptr, 0));
  for (std::size_t size : {100u, 100u, 100u, 60u}) EXPECT_TRUE(client_hears(size)) << size;
  EXPECT_EQ(batch.sources_forgotten(), 0u);
}

TEST_F(Multihomed, WithoutTheSourceTheConnectedClientHearsNothing) {
  DatagramReceiver receiver(server, false, false);
  sockaddr_storage from{};
  socklen_t from_size = 0;
  asio::ip::address local;
  hello(receiver, from, from_size, local);
  EXPECT_TRUE(local.is_unspecified());
  DatagramBatch batch(1500, true);
  queue(batch, 100, from, from_size, local);
  EXPECT_FALSE(batch.send(server, nullptr, 0));
  EXPECT_FALSE(client_hears(100)) << "the premise: the route's source is another address";
}

TEST_F(Multihomed, ASourceNotOnTheHostIsForgottenAndTheKernelChooses) {
  int plain = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);  // unconnected: hears any
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(plain, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  socklen_t len = sizeof at;
  ::getsockname(plain, reinterpret_cast<sockaddr*>(&at), &len);
  sockaddr_in6 mapped{};  // how the dual-stack socket addresses it
  mapped.sin6_family = AF_INET6;
  mapped.sin6_port = at.sin_port;
  mapped.sin6_addr.s6_addr[10] = mapped.sin6_addr.s6_addr[11] = 0xff;
  std::memcpy(&mapped.sin6_addr.s6_addr[12], &at.sin_addr, 4);
  sockaddr_storage to{};
  std::memcpy(&to, &mapped, sizeof mapped);
  auto gone = asio::ip::make_address("192.0.2.1");  // TEST-NET-1: not this host's
  DatagramBatch batch(1500, true);
  for (int i = 0; i < 2; ++i) {
    queue(batch, 100, to, sizeof mapped, gone);
    queue(batch, 100, to, sizeof mapped, gone);
    EXPECT_FALSE(batch.send(server, nullptr, 0));
  }
  char buf[256];
  int arrived = 0;
  for (int i = 0; i < 100 && arrived < 4; ++i)
    if (::recv(plain, buf, sizeof buf, MSG_DONTWAIT) == 100)
      ++arrived;
    else
      ::usleep(10000);
  EXPECT_EQ(arrived, 4);
  EXPECT_EQ(batch.sources_forgotten(), 1u) << "once, not per send";
  EXPECT_NE(batch.take_notice().find("192.0.2.1"), std::string::npos);
  EXPECT_EQ(batch.dropped(), 0u);
  EXPECT_FALSE(batch.source_usable(gone));
  batch.source_seen(gone);  // a datagram arrived at it: it is back
  EXPECT_TRUE(batch.source_usable(gone));
  ::close(plain);
}

// No route at all fails the send without its source too: the source was not the problem,
// so it is kept (and nothing said about it); the datagrams are dropped as before.
TEST(PktinfoSends, ASourceIsKeptWhenTheSendFailsWithoutItToo) {
  int calls = 0;
  std::vector<bool> with_source;
  DatagramBatch batch(1500, false, util::steady_clock(),
                      [&](int, mmsghdr* messages, unsigned, int) {
                        ++calls;
                        with_source.push_back(messages[0].msg_hdr.msg_controllen != 0);
                        errno = ENETUNREACH;
                        return -1;
                      });
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  to.sin_addr.s_addr = htonl(0xc6120002);
  auto source = asio::ip::make_address("198.18.0.3");
  std::memset(batch.slot(), 1, 50);
  batch.commit(50, reinterpret_cast<sockaddr*>(&to), sizeof to, source);
  EXPECT_EQ(batch.send(-1, nullptr, 0), std::error_code(ENETUNREACH, std::generic_category()));
  EXPECT_EQ(with_source, (std::vector<bool>{true, false}));
  EXPECT_TRUE(batch.source_usable(source));
  EXPECT_EQ(batch.sources_forgotten(), 0u);
  EXPECT_EQ(batch.take_notice(), "");
  EXPECT_EQ(batch.dropped(), 1u);
}

}  // namespace
}  // namespace tund::transport
