// The plaintext peer over a datagram pipe (UDP's rules): probing until the server
// answers, refusing wrong-shaped datagrams without answering them, following a client to
// a new address (NAT rebinding), keepalives, and a silent peer declared gone. A manual
// clock and an in-memory pipe: no sockets, no sleeping.
#include <gtest/gtest.h>

#include <cstdio>

#include "support/engine_fixture.hpp"
#include "tund/proto/timers.hpp"

namespace tund::testing {
namespace {

using namespace std::chrono_literals;

struct PlainPeers : EngineFixture {
  FakeDevice dev_c{io, device::LinkLayer::ip}, dev_s{io, device::LinkLayer::ip};
  LoopbackBind net_c{io, true, true, 40000}, net_s{io, true, false, 55555};
  tunnel::Engine client{engine_parts(dev_c, net_c, log, true, nullptr, nullptr, {}, clock)};
  tunnel::Engine server{engine_parts(dev_s, net_s, log, false, nullptr, nullptr, {}, clock)};

  PlainPeers() {
    LoopbackBind::connect(net_c, net_s);
    ticking = {&client, &server};
  }
  void start(bool with_client = true) {
    if (with_client) client.start();
    server.start();
    poll();
  }
  static transport::Endpoint stranger(std::uint16_t port) {
    return {asio::ip::make_address("198.18.0.9"), port, 0};
  }
  static LoopbackBind::Message bytes(std::initializer_list<unsigned> values) {
    LoopbackBind::Message m;
    for (unsigned v : values) m.push_back(std::byte(v));
    return m;
  }
};

TEST_F(PlainPeers, ClientProbesUntilTheServerAnswersThenDataFlows) {
  client.start();
  server.start();
  EXPECT_FALSE(client.peer().up()) << "not before the server answered";
  poll();
  pass(1s);
  ASSERT_TRUE(client.peer().up() && server.peer().up());
  dev_c.inject(ipv4_packet(84, std::byte{1}));
  dev_s.inject(ipv4_packet(1380, std::byte{2}));
  poll();
  ASSERT_EQ(dev_s.written().size(), 1u);
  ASSERT_EQ(dev_c.written().size(), 1u);
  EXPECT_EQ(dev_s.written()[0], ipv4_packet(84, std::byte{1}));
  EXPECT_EQ(dev_c.written()[0], ipv4_packet(1380, std::byte{2}));
  EXPECT_EQ(lines_with("server at 127.0.0.1:55555 is up"), 1u);
}

TEST_F(PlainPeers, WrongShapedDatagramsAreDroppedCountedAndNotAnswered) {
  start(false);
  std::vector<LoopbackBind::Message> junk = {bytes({}),
                                             bytes({1}),
                                             bytes({1, 0, 0}),
                                             bytes({1, 0, 0, 0}),
                                             bytes({9, 0, 0, 0, 1}),
                                             bytes({1, 1, 0, 0, 0x45}),
                                             bytes({2, 0, 0, 0, 7})};
  for (auto& j : junk) net_s.deliver(j, stranger(1234));
  poll();
  EXPECT_EQ(server.stats().dropped[tunnel::Drop::bad_datagram], junk.size());
  EXPECT_EQ(server.stats().dropped[tunnel::Drop::oversize], 0u);
  EXPECT_FALSE(server.peer().up());
  EXPECT_TRUE(dev_s.written().empty());
  EXPECT_TRUE(net_s.sent().empty()) << "malformed input must never be answered";
}

TEST_F(PlainPeers, EncryptedMessagesAreRefusedWhenEncryptionIsOff) {
  start(false);
  LoopbackBind::Message initiation(proto::kInitiationSize, std::byte{0});
  initiation[0] = std::byte{3};
  net_s.deliver(initiation, stranger(1234));
  poll();
  EXPECT_EQ(server.stats().dropped[tunnel::Drop::bad_datagram], 1u);
  EXPECT_EQ(lines_with("encryption is off here"), 1u);
  EXPECT_TRUE(net_s.sent().empty());
}

TEST_F(PlainPeers, ServerFollowsTheClientToANewAddress) {
  start(false);
  net_s.deliver(bytes({2, 0, 0, 0}), stranger(1000));  // a keepalive: the client is here
  poll();
  ASSERT_TRUE(server.peer().up());
  // The NAT in front of the client rebinds: the same client now appears from another port.
  LoopbackBind::Message data = bytes({1, 0, 0, 0});
  auto packet = ipv4_packet(20);
  data.insert(data.end(), packet.begin(), packet.end());
  net_s.deliver(data, stranger(2000));
  poll();
  ASSERT_EQ(dev_s.written().size(), 1u);
  EXPECT_EQ(server.peer().stats().peer_changes, 1u);
  dev_s.inject(ipv4_packet(30));
  poll();
  ASSERT_FALSE(net_s.sent_to().empty());
  EXPECT_EQ(net_s.sent_to().back(), stranger(2000));
  EXPECT_EQ(net_s.sent().back().size(), 4u + 50u);
  EXPECT_EQ(std::to_integer<unsigned>(net_s.sent().back()[0]), 1u);
  EXPECT_EQ(lines_with("client moved from 198.18.0.9:1000 to 198.18.0.9:2000"), 1u);
}

TEST_F(PlainPeers, AProbeIsAnsweredAtMostOncePerInterval) {
  start(false);
  for (int i = 0; i < 10; ++i) net_s.deliver(bytes({2, 0, 0, 0}), stranger(1000));
  poll();
  EXPECT_EQ(net_s.sent().size(), 1u) << "one answer, not one per probe";
}

TEST_F(PlainPeers, SilentPeerIsDeclaredGoneAndTheClientProbesAgain) {
  start();
  pass(1s);
  ASSERT_TRUE(client.peer().up() && server.peer().up());
  // Keepalives keep an idle tunnel up well past three intervals.
  pass(60s, 1s);
  EXPECT_TRUE(client.peer().up());
  EXPECT_TRUE(server.peer().up());
  net_s.set_filter([](LoopbackBind::Message&) { return false; });  // the server is gone
  pass(proto::kDefaultKeepalive + proto::kStaleSession + 2s, 1s);
  EXPECT_FALSE(client.peer().up());
  EXPECT_GE(lines_with("no answer from"), 1u);
}

}  // namespace
}  // namespace tund::testing
