// Two complete engines with encryption on ping each other in memory over a loopback bind
// with a manual clock, as wireguard-go's TestTwoDevicePing: handshake, rekey, keepalive,
// stale-peer detection, replay. No root, no sockets, no sleeping. Each test runs over a
// datagram pipe (UDP's behaviour) and a stream pipe (TCP's).
#include <gtest/gtest.h>

#include <cstdio>

#include "support/engine_fixture.hpp"
#include "tund/crypto/keys.hpp"
#include "tund/crypto/primitives.hpp"
#include "tund/proto/timers.hpp"
#include "tund/proto/wire.hpp"

namespace tund::testing {
namespace {

using namespace std::chrono_literals;

crypto::IdentityConfig identity_config(const crypto::Key& private_key,
                                       std::vector<crypto::Key> allowed = {}) {
  crypto::IdentityConfig config;
  config.private_key = private_key;
  config.allowed = std::move(allowed);
  return config;
}

crypto::SessionConfig session_config(bool initiator, bool stream,
                                     std::optional<crypto::Key> server = std::nullopt) {
  crypto::SessionConfig config;
  config.initiator = initiator;
  config.peer_public = server;
  config.stream = stream;
  return config;
}

struct TwoEngines : EngineFixture, ::testing::WithParamInterface<bool> {
  bool datagram = GetParam();
  bool sodium_ready = (crypto::init_sodium(), true);
  crypto::Key client_key = crypto::random_private_key();
  crypto::Key server_key = crypto::random_private_key();
  crypto::Identity client_id{identity_config(client_key)};
  crypto::Identity server_id{identity_config(server_key, {crypto::x25519_public(client_key)})};
  FakeDevice dev_c{io, device::LinkLayer::ip}, dev_s{io, device::LinkLayer::ip};
  LoopbackBind net_c{io, datagram, true, 40000}, net_s{io, datagram, false, 55555};
  tunnel::Engine client{
      engine_parts(dev_c, net_c, log, true, nullptr, &client_id,
                   session_config(true, !datagram, crypto::x25519_public(server_key)), clock)};
  tunnel::Engine server{engine_parts(dev_s, net_s, log, false, nullptr, &server_id,
                                     session_config(false, !datagram), clock)};

  TwoEngines() {
    LoopbackBind::connect(net_c, net_s);
    ticking = {&client, &server};
  }

  void start() {
    client.start();
    server.start();
    poll();
  }
  bool both_up() const { return client.peer().up() && server.peer().up(); }
  // A ping each way; true if both arrived intact.
  bool ping_both_ways(std::byte fill) {
    std::size_t at_s = dev_s.written().size(), at_c = dev_c.written().size();
    dev_c.inject(ipv4_packet(84, fill));
    dev_s.inject(ipv4_packet(1380, fill));
    poll();
    return dev_s.written().size() == at_s + 1 && dev_c.written().size() == at_c + 1 &&
           dev_s.written().back() == ipv4_packet(84, fill) &&
           dev_c.written().back() == ipv4_packet(1380, fill);
  }
};

TEST_P(TwoEngines, HandshakeThenPacketsCrossSealed) {
  start();
  pass(1s);
  ASSERT_TRUE(both_up());
  EXPECT_TRUE(ping_both_ways(std::byte{0x5a}));
  EXPECT_EQ(client.crypto_stats().handshakes_completed, 1u);
  EXPECT_EQ(server.crypto_stats().handshakes_completed, 1u);
  // Nothing on the wire in plaintext: every message is an encrypted type, and the
  // packet's bytes appear in none of them.
  for (const auto& m : net_c.sent()) {
    ASSERT_FALSE(m.empty());
    auto type = std::to_integer<unsigned>(m[0]);
    EXPECT_TRUE(type >= 3 && type <= 5) << "type " << type;
    EXPECT_EQ(std::search_n(m.begin(), m.end(), 64, std::byte{0x5a}), m.end());
  }
  EXPECT_GE(lines_with("established"), 2u);
}

TEST_P(TwoEngines, RekeysWithoutLosingTraffic) {
  start();
  pass(1s);
  ASSERT_TRUE(both_up());
  int delivered = 0;
  for (int i = 0; i < 5; ++i) {  // 5 x 30 s: past proto::kRekeyAfterTime (120 s)
    pass(30s, 1s);
    delivered += ping_both_ways(std::byte(i + 1)) ? 1 : 0;
  }
  EXPECT_EQ(delivered, 5) << "every ping crossed, before and after the rekey";
  EXPECT_GE(client.crypto_stats().handshakes_completed, 2u);
  EXPECT_TRUE(both_up());
}

TEST_P(TwoEngines, ReplayedMessagesAreRefused) {
  start();
  pass(1s);
  ASSERT_TRUE(ping_both_ways(std::byte{7}));
  // The last message the client sent carried the ping: play it again.
  LoopbackBind::Message copy = net_c.sent().back();
  ASSERT_EQ(std::to_integer<unsigned>(copy[0]), 5u);
  std::size_t written = dev_s.written().size();
  net_s.deliver(copy);
  poll();
  EXPECT_EQ(dev_s.written().size(), written) << "a replay never reaches the device";
  EXPECT_EQ(server.crypto_stats().replayed, 1u);
  EXPECT_EQ(server.stats().dropped[tunnel::Drop::refused], 1u);
}

TEST_P(TwoEngines, ATamperedMessageFailsAuthentication) {
  start();
  pass(1s);
  net_c.set_filter([](LoopbackBind::Message& m) {
    if (std::to_integer<unsigned>(m[0]) == 5 && m.size() > 40) m[30] ^= std::byte{1};
    return true;
  });
  dev_c.inject(ipv4_packet(84));
  poll();
  EXPECT_TRUE(dev_s.written().empty());
  EXPECT_EQ(server.crypto_stats().auth_failed, 1u);
}

// Datagram pipes only: TCP's liveness is its connection's (and its keepalive options).
struct TwoDatagramEngines : TwoEngines {};

TEST_P(TwoDatagramEngines, IdlePeersKeepEachOtherAlive) {
  start();
  pass(1s);
  // A keepalive is an empty sealed frame: exactly the transport overhead.
  auto keepalives = [&] {
    return std::count_if(net_c.sent().begin(), net_c.sent().end(),
                         [](const auto& m) { return m.size() == proto::kTransportOverhead; });
  };
  auto before = keepalives();
  pass(60s, 1s);  // six keepalive intervals, twice the silence that means "gone"
  EXPECT_TRUE(both_up());
  EXPECT_GE(keepalives() - before, 5) << "keepalives went out";
  // On the data path, so that one lost to a failed send is counted (tx-failed) as before;
  // the only control message is the handshake initiation.
  EXPECT_EQ(net_c.controls_sent(), 1u);
  EXPECT_EQ(lines_with("silent for"), 0u);
}

TEST_P(TwoDatagramEngines, AClientNoticesAServerThatLostItsSession) {
  start();
  pass(1s);
  ASSERT_TRUE(both_up());
  net_s.set_filter([](LoopbackBind::Message&) { return false; });  // the server goes quiet
  dev_c.inject(ipv4_packet(84));
  poll();
  pass(proto::kStaleSession + 1s);
  EXPECT_FALSE(client.peer().up());
  EXPECT_EQ(lines_with("starting a new handshake"), 1u);
  net_s.set_filter(nullptr);
  pass(proto::kHandshakeRetryCap);
  EXPECT_TRUE(both_up());
  EXPECT_TRUE(ping_both_ways(std::byte{9}));
}

TEST_P(TwoDatagramEngines, AServerForgetsAClientSilentForThreeKeepalives) {
  start();
  pass(1s);
  net_c.set_filter([](LoopbackBind::Message&) { return false; });  // the client vanishes
  pass(proto::kDefaultKeepalive * proto::kKeepalivesMissedBeforeDead + 2s, 1s);
  EXPECT_FALSE(server.peer().up());
  EXPECT_FALSE(server.peer().endpoint().has_value());
  EXPECT_EQ(lines_with("client 127.0.0.1:40000 silent for"), 1u);
  EXPECT_EQ(lines_with("considered gone"), 1u) << "the client still hears the server";
}

TEST_P(TwoEngines, ALostConnectionOrPathHandshakesAgain) {
  start();
  pass(1s);
  ASSERT_TRUE(both_up());
  net_c.set_up(false);
  poll();
  EXPECT_FALSE(client.peer().up());
  net_c.set_up(true);
  pass(2s);
  EXPECT_TRUE(client.peer().up());
  EXPECT_TRUE(ping_both_ways(std::byte{3}));
  EXPECT_EQ(client.crypto_stats().handshakes_completed, 2u);
}

TEST_P(TwoEngines, AClientWithAKeyNotAllowedNeverComesUp) {
  server_id.update({}, std::nullopt);  // nobody is allowed in
  start();
  pass(5s);
  EXPECT_FALSE(client.peer().up());
  EXPECT_FALSE(server.peer().up());
  EXPECT_GE(server.crypto_stats().handshakes_refused, 1u);
  EXPECT_TRUE(dev_s.written().empty());
}

INSTANTIATE_TEST_SUITE_P(Pipes, TwoEngines, ::testing::Values(true, false),
                         [](const auto& p) { return p.param ? "Datagram" : "Stream"; });
INSTANTIATE_TEST_SUITE_P(Pipes, TwoDatagramEngines, ::testing::Values(true),
                         [](const auto&) { return "Datagram"; });

}  // namespace
}  // namespace tund::testing
