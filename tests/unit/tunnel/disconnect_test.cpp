// Engine::disconnect (`tund disconnect PEER`): the peer's sessions are wiped and it goes
// down, the observer hears it, and, unlike a peer removed by a reload, it comes back with
// the client's next handshake. Over in-memory pipes with a manual clock.
#include <gtest/gtest.h>

#include "support/engine_fixture.hpp"
#include "tund/crypto/keys.hpp"
#include "tund/crypto/primitives.hpp"
#include "tund/proto/timers.hpp"

namespace tund::testing {
namespace {

using namespace std::chrono_literals;

// A hub with one client ("alice") over a datagram pipe, or a one-peer server and its
// client over a stream pipe; encrypted.
struct Disconnect : EngineFixture {
  bool sodium_ready = (crypto::init_sodium(), true);
  crypto::Key server_key = crypto::random_private_key();
  crypto::Key client_key = crypto::random_private_key();
  std::optional<crypto::Identity> server_id, client_id;
  FakeDevice dev_s{io, device::LinkLayer::ip}, dev_c{io, device::LinkLayer::ip};
  std::optional<LoopbackBind> net_s, net_c;
  std::optional<tunnel::Engine> server, client;
  std::vector<bool> heard;  // what the server's observer was told

  crypto::SessionConfig session(bool initiator, bool stream) const {
    crypto::SessionConfig c;
    c.initiator = initiator;
    c.stream = stream;
    if (initiator) c.peer_public = crypto::x25519_public(server_key);
    return c;
  }
  void build(bool hub) {
    net_s.emplace(io, hub, false, 51820);
    net_c.emplace(io, hub, true, 40000);
    if (hub)
      LoopbackBind::attach(*net_c, *net_s);
    else
      LoopbackBind::connect(*net_c, *net_s);
    crypto::IdentityConfig ic;
    ic.private_key = server_key;
    ic.allowed = {crypto::x25519_public(client_key)};
    server_id.emplace(ic);
    auto parts =
        engine_parts(dev_s, *net_s, log, false, nullptr, &*server_id, session(false, !hub), clock);
    if (hub) parts.hub = std::vector<tunnel::HubPeerSpec>{alice()};
    server.emplace(std::move(parts));
    server->set_peer_observer([this](const tunnel::Peer&, bool up) { heard.push_back(up); });
    server->start();
    crypto::IdentityConfig cc;
    cc.private_key = client_key;
    client_id.emplace(cc);
    client.emplace(
        engine_parts(dev_c, *net_c, log, true, nullptr, &*client_id, session(true, !hub), clock));
    client->start();
    ticking = {&*server, &*client};
    pass(1s);
  }
  tunnel::HubPeerSpec alice() const {
    tunnel::HubPeerSpec s;
    s.name = "alice";
    s.public_key = crypto::x25519_public(client_key);
    return s;
  }
  const tunnel::Peer& peer() const { return *server->peers().front(); }
};

TEST_F(Disconnect, AHubPeerGoesDownAndComesBackWithTheClientsNextHandshake) {
  build(true);
  ASSERT_TRUE(peer().up());
  ASSERT_NE(peer().up_since(), util::Clock::time_point{});
  ASSERT_TRUE(peer().session()->last_handshake().has_value());
  auto handshakes = server->crypto_stats().handshakes_completed;
  auto shook = *peer().session()->last_handshake();
  auto heard_at = peer().last_received();
  auto where = peer().endpoint();
  ASSERT_NE(heard_at, util::Clock::time_point{});
  ASSERT_TRUE(where.has_value());

  EXPECT_TRUE(server->disconnect("alice"));
  EXPECT_FALSE(peer().up());
  EXPECT_FALSE(peer().endpoint().has_value());
  EXPECT_FALSE(peer().session()->keyed());  // keypairs wiped
  // History for `tund show`: where it was, when it was last heard and handshook.
  EXPECT_EQ(peer().session()->last_handshake(), shook);
  EXPECT_EQ(peer().last_received(), heard_at);
  EXPECT_EQ(peer().last_endpoint(), where);
  EXPECT_EQ(peer().up_since(), util::Clock::time_point{});
  EXPECT_EQ(heard, (std::vector<bool>{true, false}));
  ASSERT_EQ(server->peers().size(), 1u);  // still a peer, unlike one removed by a reload

  // The client finds its session unanswered and handshakes anew.
  dev_c.inject(ipv4_packet(32));
  pass(30s);
  EXPECT_TRUE(peer().up());
  EXPECT_GT(server->crypto_stats().handshakes_completed, handshakes);
  EXPECT_EQ(heard, (std::vector<bool>{true, false, true}));
}

// A client gone silent: the hub forgets its endpoint, not when it was last heard or where.
TEST_F(Disconnect, ASilentHubPeerKeepsItsHistory) {
  build(true);
  ASSERT_TRUE(peer().up());
  auto where = peer().endpoint();
  net_c->set_filter([](LoopbackBind::Message&) { return false; });  // the client vanishes
  pass(2s);
  auto heard_at = peer().last_received();
  pass(proto::kDefaultKeepalive * proto::kKeepalivesMissedBeforeDead + 2s, 1s);
  EXPECT_FALSE(peer().up());
  EXPECT_FALSE(peer().endpoint().has_value());
  EXPECT_EQ(peer().last_endpoint(), where);
  EXPECT_NE(peer().last_received(), util::Clock::time_point{});
  EXPECT_LE(peer().last_received(), heard_at);
  EXPECT_TRUE(peer().session()->last_handshake().has_value());
}

// A peer that is neither up nor reachable is found but left alone, so the operator hears
// "not connected" instead of a disconnect that did nothing; the name is the peer's, even
// when it was asked for by key.
TEST_F(Disconnect, APeerThatIsNotConnectedIsFoundButLeftAlone) {
  build(true);
  ASSERT_TRUE(peer().up());
  auto first = server->disconnect(crypto::to_base64(crypto::x25519_public(client_key)));
  EXPECT_TRUE(first.found);
  EXPECT_TRUE(first.was_connected);
  EXPECT_EQ(first.name, "alice");
  auto again = server->disconnect("alice");  // before the client comes back
  EXPECT_TRUE(again.found);
  EXPECT_FALSE(again.was_connected);
}

TEST_F(Disconnect, AHubPeerIsFoundByItsPublicKeyToo) {
  build(true);
  ASSERT_TRUE(peer().up());
  EXPECT_TRUE(server->disconnect(crypto::to_base64(crypto::x25519_public(client_key))));
  EXPECT_FALSE(peer().up());
}

TEST_F(Disconnect, AnUnknownPeerIsFalseAndChangesNothing) {
  build(true);
  ASSERT_TRUE(peer().up());
  EXPECT_FALSE(server->disconnect("mallory"));
  EXPECT_FALSE(server->disconnect("client"));  // a hub's peers go by their file names
  EXPECT_FALSE(server->disconnect(""));
  EXPECT_TRUE(peer().up());
  EXPECT_EQ(heard, (std::vector<bool>{true}));
}

// One peer over TCP: the server closes the connection; the client reconnects (here: the
// test's pipe brings a new connection, as the TCP client transport does) and handshakes.
TEST_F(Disconnect, TheOnePeerOverTcpIsClosedAndMayReconnect) {
  build(false);
  ASSERT_TRUE(peer().up());
  EXPECT_FALSE(server->disconnect("server"));  // the server's peer is "client"
  auto where = peer().endpoint();
  EXPECT_TRUE(server->disconnect("client"));
  EXPECT_FALSE(peer().up());
  EXPECT_EQ(net_s->closed().size(), 1u);
  EXPECT_EQ(peer().last_endpoint(), where);
  EXPECT_NE(peer().last_received(), util::Clock::time_point{});
  EXPECT_TRUE(peer().session()->last_handshake().has_value());
  net_c->set_up(false);
  net_c->set_up(true);
  pass(1s);
  EXPECT_TRUE(peer().up());
  EXPECT_TRUE(client->peer().up());
  // A stream peer counts its sessions too (tund show's "sessions"; it said 0 over TCP).
  EXPECT_EQ(peer().stats().sessions, 2u);
  EXPECT_EQ(client->peer().stats().sessions, 2u);
}

TEST_F(Disconnect, AClientDisconnectingItsServerHandshakesAnewAtOnce) {
  build(true);
  ASSERT_TRUE(client->peer().up());
  auto last = *client->peer().session()->last_handshake();
  clock.advance(1s);
  EXPECT_TRUE(client->disconnect("server"));
  EXPECT_FALSE(client->peer().up());
  pass(1s);
  EXPECT_TRUE(client->peer().up());
  EXPECT_GT(*client->peer().session()->last_handshake(), last);
}

// Plaintext TCP frames are not timed one by one: the timer tick stamps "last heard" when
// frames arrived since the previous tick.
struct PlainStream : EngineFixture {
  FakeDevice dev_s{io, device::LinkLayer::ip}, dev_c{io, device::LinkLayer::ip};
  LoopbackBind net_c{io, false, true, 40000}, net_s{io, false, false, 55555};
  tunnel::Engine client{engine_parts(dev_c, net_c, log, true, nullptr, nullptr, {}, clock)};
  tunnel::Engine server{engine_parts(dev_s, net_s, log, false, nullptr, nullptr, {}, clock)};

  PlainStream() {
    LoopbackBind::connect(net_c, net_s);
    ticking = {&server, &client};
    client.start();
    server.start();
    pass(1s);
  }
};

TEST_F(PlainStream, LastReceivedMovesWithFramesAtTheTick) {
  const tunnel::Peer& peer = server.peer();
  ASSERT_TRUE(peer.up());
  EXPECT_EQ(peer.last_received(), util::Clock::time_point{}) << "nothing heard yet";
  dev_c.inject(ipv4_packet(84));
  poll();
  ASSERT_EQ(dev_s.written().size(), 1u);
  pass(250ms);
  auto first = peer.last_received();
  EXPECT_EQ(first, clock.now());
  pass(5s);
  EXPECT_EQ(peer.last_received(), first) << "no frames, no stamp";
  dev_c.inject(ipv4_packet(84));
  poll();
  pass(250ms);
  EXPECT_EQ(peer.last_received(), clock.now());
  auto where = peer.endpoint();
  auto heard_at = peer.last_received();
  clock.advance(1s);
  EXPECT_TRUE(server.disconnect("client"));
  EXPECT_FALSE(peer.up());
  EXPECT_EQ(peer.last_received(), heard_at) << "kept after the disconnect";
  EXPECT_EQ(peer.last_endpoint(), where);
}

}  // namespace
}  // namespace tund::testing
