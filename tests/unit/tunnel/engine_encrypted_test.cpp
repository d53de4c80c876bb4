// The engine's encrypted receive path, once for TCP and UDP (it used to be written twice,
// in each transport): connections that have not authenticated (pending) and their
// promotion, the per-source handshake rate limit, and address following that only an
// authenticated message may cause.
#include <gtest/gtest.h>

#include <cstdio>

#include "support/engine_fixture.hpp"
#include "tund/crypto/keys.hpp"
#include "tund/crypto/primitives.hpp"
#include "tund/proto/timers.hpp"

namespace tund::testing {
namespace {

using namespace std::chrono_literals;

struct Encrypted : EngineFixture {
  bool sodium_ready = (crypto::init_sodium(), true);
  crypto::Key client_key = crypto::random_private_key();
  crypto::Key server_key = crypto::random_private_key();
  crypto::Identity server_id{config_for(server_key, {crypto::x25519_public(client_key)})};
  FakeDevice dev_s{io, device::LinkLayer::ip};
  std::optional<LoopbackBind> net_s, net_c;
  std::optional<FakeDevice> dev_c;
  std::optional<crypto::Identity> client_id;
  std::optional<tunnel::Engine> server, client;

  static crypto::IdentityConfig config_for(const crypto::Key& key,
                                           std::vector<crypto::Key> allowed) {
    return identity_config(key, std::move(allowed));
  }
  crypto::SessionConfig session(bool initiator, bool stream) const {
    crypto::SessionConfig c;
    c.initiator = initiator;
    c.stream = stream;
    if (initiator) c.peer_public = crypto::x25519_public(server_key);
    return c;
  }
  // A server, and (optionally) a client connected to it, over a datagram or stream pipe.
  void build(bool datagram, bool with_client = true) {
    net_s.emplace(io, datagram, false, 55555);
    net_c.emplace(io, datagram, true, 40000);
    LoopbackBind::connect(*net_c, *net_s);
    server.emplace(engine_parts(dev_s, *net_s, log, false, nullptr, &server_id,
                                session(false, !datagram), clock));
    server->start();
    if (with_client) {
      dev_c.emplace(io, device::LinkLayer::ip);
      client_id.emplace(config_for(client_key, {}));
      client.emplace(engine_parts(*dev_c, *net_c, log, true, nullptr, &*client_id,
                                  session(true, !datagram), clock));
      client->start();
    }
    poll();
  }
  // A fresh initiation from the allowed client's key, as a second client would send.
  LoopbackBind::Message fresh_initiation() {
    crypto::Identity id(config_for(client_key, {}));
    crypto::Session s(id, session(true, true));
    LoopbackBind::Message m(proto::kInitiationSize);
    clock.advance(1ms);  // a later TAI64N timestamp than the last one
    s.write_initiation(m.data(), clock.now());
    return m;
  }
  static transport::Endpoint connection(std::uint64_t id) {
    return {asio::ip::make_address("198.18.0.7"), static_cast<std::uint16_t>(40000 + id), id};
  }
};

// TCP: an accepted connection belongs to nobody until a message on it authenticates; a
// stranger's garbage gets it closed, never adopted, and the tunnel stays with its client.
TEST_F(Encrypted, APendingConnectionThatFailsItsHandshakeIsClosed) {
  build(false);
  ASSERT_TRUE(server->peer().up());
  auto current = server->peer().endpoint();
  net_s->deliver(LoopbackBind::Message(proto::kInitiationSize, std::byte{3}), connection(9));
  poll();
  ASSERT_EQ(net_s->closed().size(), 1u);
  EXPECT_EQ(net_s->closed()[0], connection(9));
  EXPECT_EQ(std::count(net_s->adopted().begin(), net_s->adopted().end(), connection(9)), 0);
  EXPECT_EQ(server->peer().endpoint(), current) << "a stranger cannot displace the client";
  EXPECT_EQ(server->stats().dropped[tunnel::Drop::refused], 1u);
  EXPECT_TRUE(server->peer().up());
}

// TCP: the client reconnected (a new connection authenticates): it is adopted and the old
// connection closed.
TEST_F(Encrypted, AnAuthenticatedConnectionIsPromotedAndReplacesTheOld) {
  build(false);
  ASSERT_TRUE(server->peer().up());
  auto old = *server->peer().endpoint();
  net_s->deliver(fresh_initiation(), connection(9));
  poll();
  EXPECT_EQ(server->peer().endpoint(), connection(9));
  EXPECT_EQ(std::count(net_s->adopted().begin(), net_s->adopted().end(), connection(9)), 1);
  ASSERT_FALSE(net_s->closed().empty());
  EXPECT_EQ(net_s->closed().back(), old);
  EXPECT_EQ(server->peer().stats().peer_changes, 1u);
  EXPECT_EQ(lines_with("authenticated; it replaces"), 1u);
}

// A flood of initiations from one address costs at most the burst in public-key work.
TEST_F(Encrypted, InitiationsAreRateLimitedPerSource) {
  for (bool datagram : {true, false}) {
    SCOPED_TRACE(datagram ? "udp" : "tcp");
    lines.clear();
    server.reset();
    build(datagram, false);
    clock.advance(1min);  // the limiter (the identity's) has forgotten the last round
    LoopbackBind::Message junk(proto::kInitiationSize, std::byte{0});
    junk[0] = std::byte{3};  // claims to be an initiation
    // Not under load: one address may send many (clients behind one NAT).
    auto burst = static_cast<int>(proto::kInitiationBurst);
    for (int i = 0; i < burst / 2; ++i) net_s->deliver(junk, connection(1));
    poll();
    EXPECT_EQ(server->stats().dropped[tunnel::Drop::rate_limited], 0u);
    // Beyond the global budget: under load, the per-source limit applies.
    for (int i = 0; i < 2 * burst; ++i) net_s->deliver(junk, connection(1));
    poll();
    EXPECT_LE(lines.size(), 12u) << "a flood does not flood the log";
    auto passed = static_cast<std::uint64_t>(burst * (1 - proto::kUnderLoadFraction)) + 1 +
                  static_cast<std::uint64_t>(proto::kHandshakeBurst);
    EXPECT_EQ(server->stats().dropped[tunnel::Drop::rate_limited],
              static_cast<std::uint64_t>(burst / 2 + 2 * burst) - passed);
  }
}

// UDP: only an authenticated message may move the server's idea of where its client is.
TEST_F(Encrypted, OnlyAnAuthenticatedMessageMovesTheClient) {
  build(true);
  ASSERT_TRUE(server->peer().up());
  auto where = *server->peer().endpoint();
  transport::Endpoint stranger{asio::ip::make_address("198.18.0.66"), 999, 0};
  LoopbackBind::Message forged(64, std::byte{0});
  forged[0] = std::byte{5};
  net_s->deliver(forged, stranger);
  poll();
  EXPECT_EQ(server->peer().endpoint(), where) << "unauthenticated: ignored";
  // The client's NAT rebinds: its next sealed message arrives from another port.
  transport::Endpoint rebound{asio::ip::make_address("127.0.0.1"), 40001, 0};
  net_c->set_filter([&](LoopbackBind::Message& m) {
    net_s->deliver(m, rebound);  // delivered from the new address instead
    return false;
  });
  dev_c->inject(ipv4_packet(84));
  poll();
  EXPECT_EQ(server->peer().endpoint(), rebound);
  EXPECT_EQ(server->peer().stats().peer_changes, 1u);
  EXPECT_EQ(dev_s.written().size(), 1u);
  EXPECT_EQ(lines_with("client moved from 127.0.0.1:40000 to 127.0.0.1:40001"), 1u);
}

// UDP: the client's messages arrive at another address of the server's host (it moved to
// the server's other address): answers must leave from that one (Endpoint::local), so the
// endpoint is followed, but the client did not move and nothing says it did.
TEST_F(Encrypted, AnotherLocalAddressIsFollowedWithoutAMove) {
  build(true);
  ASSERT_TRUE(server->peer().up());
  transport::Endpoint via_second = *server->peer().endpoint();
  via_second.local = asio::ip::make_address("198.18.0.3");
  net_c->set_filter([&](LoopbackBind::Message& m) {
    net_s->deliver(m, via_second);
    return false;
  });
  dev_c->inject(ipv4_packet(84));
  poll();
  EXPECT_EQ(server->peer().endpoint(), via_second);
  EXPECT_EQ(server->peer().stats().peer_changes, 0u);
  EXPECT_EQ(lines_with("client moved"), 0u);
  EXPECT_EQ(dev_s.written().size(), 1u);
}

// Every frame an encrypted engine writes passed an AEAD check, so its device may skip the
// TCP checksum pass before merging; a plaintext engine's device never may.
TEST_F(Encrypted, OnlyAnEncryptedEngineTellsItsDeviceChecksumsAreTrusted) {
  build(true);
  EXPECT_TRUE(dev_s.checksums_trusted());
  EXPECT_TRUE(dev_c->checksums_trusted());
}

}  // namespace
}  // namespace tund::testing
