// The responder's identity: authenticating initiations (allow-list, timestamps, low-order
// keys), the per-source initiation rate, SIGHUP updates, and one identity serving two
// client sessions (the hub's shape).
#include "tund/crypto/identity.hpp"

#include <gtest/gtest.h>

#include "crypto_peers.hpp"
#include "tund/proto/timers.hpp"

namespace tund::crypto::testing {
namespace {

using IdentityTest = CryptoPeers;

TEST_F(IdentityTest, PublicKeyIsThePrivateKeys) {
  make();
  EXPECT_EQ(server_id->public_key(), x25519_public(server_key));
  EXPECT_TRUE(server_id->allowed(x25519_public(client_key)));
  EXPECT_FALSE(server_id->allowed(x25519_public(server_key)));
}

TEST_F(IdentityTest, AuthenticatedInitiationNamesTheClientItsIndexAndTheCipher) {
  make();
  Buffer init = initiation();
  auto result = server_id->consume_initiation(init, now);
  ASSERT_TRUE(std::holds_alternative<Initiation>(result));
  const Initiation& i = std::get<Initiation>(result);
  EXPECT_EQ(i.client, x25519_public(client_key));
  EXPECT_EQ(i.sender_index, util::load_be32(init.data() + 4));
  EXPECT_EQ(i.aead, Aead::chacha20poly1305) << "neither side offered AES";
  EXPECT_NE(i.handshake, nullptr);
}

TEST_F(IdentityTest, WrongServerKeyFailsWithoutAReply) {
  auto cs = client_session();
  cs.peer_public = x25519_public(random_private_key());
  make(client_identity(), cs, server_identity(), server_session());
  Verdict v = answer(initiation());
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_FALSE(v.authenticated);
  EXPECT_EQ(server_id->stats().handshakes_failed, 1u);
  EXPECT_EQ(v.reason,
            "handshake initiation failed authentication (client has a wrong server key, or is "
            "not tund)");
}

TEST_F(IdentityTest, ClientNotAllowedIsRefused) {
  auto si = server_identity();
  si.allowed = {x25519_public(random_private_key())};
  make(client_identity(), client_session(), si, server_session());
  Verdict v = answer(initiation());
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_EQ(v.reason, "client key " + to_base64(x25519_public(client_key)) + " is not allowed");
  EXPECT_EQ(server_id->stats().handshakes_refused, 1u);
}

TEST_F(IdentityTest, ReplayedInitiationIsRejectedByItsTimestamp) {
  make();
  Buffer init = initiation();
  EXPECT_EQ(answer(init).action, Action::reply);
  Verdict v = answer(init);
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_NE(v.reason.find("replayed"), std::string::npos);
}

// The field case behind the replay rule is a client whose clock was ahead and has been
// corrected: the line must say so, and how to recover.
TEST_F(IdentityTest, OldTimestampLineExplainsTheClockAndTheWayOut) {
  make();
  Buffer init = initiation();
  ASSERT_EQ(answer(init).action, Action::reply);
  Verdict v = answer(init);
  ASSERT_EQ(v.action, Action::drop);
  EXPECT_EQ(server_id->stats().handshakes_refused, 1u);
  for (const char* part :
       {"handshake timestamp went backwards", "clock was stepped back", "replayed initiation",
        "refused until the client's clock passes", "restart the server", " UTC"})
    EXPECT_NE(v.reason.find(part), std::string::npos) << part << " in: " << v.reason;
  EXPECT_NE(v.reason.find(to_base64(x25519_public(client_key))), std::string::npos);
}

TEST(Tai64n, FormatsAsUtc) {
  Tai64n stamp{};
  for (std::size_t i = 0; i < 8; ++i)
    stamp[i] =
        static_cast<std::byte>(std::array<unsigned, 8>{0x40, 0, 0, 0, 0x69, 0x2c, 0x53, 1}[i]);
  EXPECT_EQ(tai64n_to_string(stamp), "2025-11-30 14:21:53 UTC");
}

// A low-order point arriving on the wire is refused (counted, with a reason), never thrown.
TEST_F(IdentityTest, LowOrderEphemeralInAnInitiationIsRefusedNotThrown) {
  make();
  Buffer init = initiation();
  std::fill(init.begin() + 8, init.begin() + 8 + kKeySize, std::byte{0});  // e = the zero point
  init[8] = std::byte{1};  // e = the point of order 1
  Verdict v;
  EXPECT_NO_THROW(v = answer(init));
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_FALSE(v.authenticated);
  EXPECT_EQ(v.reason, "handshake initiation refused: it carries a low-order ephemeral key");
  EXPECT_EQ(server_id->stats().handshakes_failed, 1u);
}

TEST_F(IdentityTest, LowOrderStaticInAnInitiationIsRefusedNotThrown) {
  make();
  HandshakeSettings hs;
  hs.initiator = true;
  hs.static_private = client_key;
  hs.remote_static = x25519_public(server_key);
  hs.prologue = bytes({'t', 'u', 'n', 'd', '/', '1'});
  hs.static_public = Key{};
  (*hs.static_public)[0] = std::byte{1};  // claims the point of order 1 as its identity
  Handshake forged(hs);
  Buffer payload(13);
  auto noise = forged.write_message(payload);
  Buffer init =
      bytes({static_cast<unsigned>(proto::MessageType::handshake_initiation), 0, 0, 0, 0, 0, 0, 7});
  init.insert(init.end(), noise.begin(), noise.end());
  ASSERT_EQ(init.size(), proto::kInitiationSize);
  Verdict v;
  EXPECT_NO_THROW(v = answer(init));
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_EQ(v.reason, "handshake initiation refused: it carries a low-order static key");
  EXPECT_EQ(server_id->stats().handshakes_failed, 1u);
}

TEST_F(IdentityTest, LowOrderAllowedKeysAreRefusedAtConstructionAndUpdate) {
  auto si = server_identity();
  si.allowed.push_back(Key{});
  EXPECT_THROW(Identity{si}, KeyError);
  make();
  EXPECT_THROW(server_id->update({x25519_public(random_private_key()), Key{}}, std::nullopt),
               KeyError);
  EXPECT_TRUE(server_id->allowed(x25519_public(client_key))) << "nothing changed";
}

TEST_F(IdentityTest, MalformedInitiationsAreRefusedWithTheirReason) {
  make();
  Buffer init = initiation();
  init.resize(100);
  Verdict v = answer(init);
  EXPECT_EQ(v.reason, "initiation of wrong size");
  EXPECT_EQ(answer(bytes({5, 0, 1, 0})).reason, "malformed encrypted message");
  Buffer transport(proto::kTransportOverhead, std::byte{0});
  transport[0] = static_cast<std::byte>(proto::MessageType::transport);
  EXPECT_EQ(answer(transport).reason, "not a handshake initiation");
  EXPECT_EQ(server_id->stats().malformed, 3u);
}

// SIGHUP: a newly allowed key gets in, a removed one loses its session and cannot return.
TEST_F(IdentityTest, ReloadedAllowListAppliesToTheNextHandshake) {
  auto si = server_identity();
  si.allowed = {x25519_public(random_private_key())};
  make(client_identity(), client_session(), si, server_session());
  EXPECT_EQ(answer(initiation()).action, Action::drop);
  server_id->update({x25519_public(client_key)}, std::nullopt);
  now += 1s;
  handshake();
  EXPECT_TRUE(server->ready(now));
  server_id->update({x25519_public(random_private_key())}, std::nullopt);
  server->drop_disallowed();
  EXPECT_FALSE(server->ready(now));
  Verdict v = open(*server, seal(*client, frame_of(10)));
  EXPECT_EQ(v.action, Action::drop);
  now += 1s;
  EXPECT_EQ(answer(initiation()).action, Action::drop) << "cannot return";
  EXPECT_THROW(server_id->update({Key{}}, std::nullopt), KeyError);
}

TEST_F(IdentityTest, ReloadedPskAppliesToTheNextHandshake) {
  make();
  handshake();
  Key psk = random_private_key();
  server_id->update({x25519_public(client_key)}, psk);
  now += 1s;
  Verdict v = answer(initiation());
  EXPECT_EQ(v.action, Action::drop) << "the client made an IK handshake: no psk";
  EXPECT_NE(v.reason.find("without a psk, but one is configured"), std::string::npos) << v.reason;
  EXPECT_EQ(server->stats().handshakes_failed, 1u);
  EXPECT_TRUE(client->ready(now)) << "the running keypair is kept";
  client_id->update({}, psk);
  now += 1s;
  handshake();
}

// Not under load, one source may use the whole global budget (many clients behind one NAT
// address); the per-source rules are tested in initiation_limiter_test.cpp.
TEST_F(IdentityTest, InitiationsFromOneSourceAreNotLimitedPerSourceWhenNotUnderLoad) {
  make();
  auto burst = static_cast<int>(proto::kHandshakeBurst);
  for (int i = 0; i < 4 * burst; ++i)
    EXPECT_TRUE(server_id->allow_initiation("192.0.2.1", now)) << i;
  EXPECT_FALSE(server_id->under_load(now));
}

TEST_F(IdentityTest, AllowListOfAThousandKeysIsSearchedAndReloadKeepsTimestamps) {
  make();
  std::vector<Key> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back(x25519_public(random_private_key()));
  keys.push_back(x25519_public(client_key));
  server_id->update(keys, std::nullopt);
  for (const Key& k : keys) EXPECT_TRUE(server_id->allowed(k));
  for (int i = 0; i < 100; ++i)
    EXPECT_FALSE(server_id->allowed(x25519_public(random_private_key())));
  Buffer first = initiation();
  ASSERT_TRUE(std::holds_alternative<Initiation>(server_id->consume_initiation(first, now)));
  // SIGHUP: the client stays (the list is reordered, others go): its timestamp is kept.
  std::vector<Key> fewer(keys.rbegin(), keys.rbegin() + 10);
  server_id->update(fewer, std::nullopt);
  auto replay = server_id->consume_initiation(first, now);
  ASSERT_TRUE(std::holds_alternative<Verdict>(replay));
  EXPECT_NE(std::get<Verdict>(replay).reason.find("timestamp went backwards"), std::string::npos);
  EXPECT_FALSE(server_id->allowed(keys.front()));
  now += 1s;
  EXPECT_TRUE(std::holds_alternative<Initiation>(server_id->consume_initiation(initiation(), now)));
}

// The hub's future: one responder identity with two client keys, one session per client.
// Initiations are routed by the client key the identity reports, everything else by the
// receiver index a session owns.
class Hub : public CryptoPeers {
 protected:
  struct Client {
    Key key;
    std::unique_ptr<Identity> id;
    std::unique_ptr<Session> session;
    std::unique_ptr<Session> at_server;  // the server's session for this client
  };
  Client a, b;

  void SetUp() override {
    CryptoPeers::SetUp();
    for (Client* c : {&a, &b}) c->key = random_private_key();
    server_id = std::make_unique<Identity>(IdentityConfig{
        server_key, std::nullopt, {x25519_public(a.key), x25519_public(b.key)}, false});
    for (Client* c : {&a, &b}) {
      c->id = std::make_unique<Identity>(IdentityConfig{c->key, std::nullopt, {}, false});
      c->session = std::make_unique<Session>(*c->id, client_session());
      c->at_server = std::make_unique<Session>(*server_id, server_session());
    }
  }
  Session& session_for_key(const Key& client_public) {
    return client_public == x25519_public(a.key) ? *a.at_server : *b.at_server;
  }
  Session* session_for_index(std::uint32_t index) {
    for (Client* c : {&a, &b})
      if (c->at_server->owns_index(index)) return c->at_server.get();
    return nullptr;
  }
  void connect(Client& c) {
    Buffer init = testing::initiation(*c.session, now);
    auto result = server_id->consume_initiation(init, now);
    ASSERT_TRUE(std::holds_alternative<Initiation>(result)) << std::get<Verdict>(result).reason;
    Initiation& i = std::get<Initiation>(result);
    Verdict r = session_for_key(i.client).respond(std::move(i), now);
    ASSERT_EQ(r.action, Action::reply);
    Buffer response = as_buffer(r);
    ASSERT_TRUE(open(*c.session, response).established);
  }
  // The server receives a transport message: routed by its receiver index.
  Verdict to_server(Buffer m) {
    MessageShape shape = classify(m);
    Session* s = session_for_index(shape.receiver_index);
    if (!s) return drop(unrouted, "transport message for no live session");
    return open(*s, std::move(m));
  }
  std::uint64_t unrouted = 0;
};

TEST_F(Hub, OneIdentityAnswersTwoSessions) {
  connect(a);
  connect(b);
  EXPECT_EQ(a.at_server->peer_key(), x25519_public(a.key));
  EXPECT_EQ(b.at_server->peer_key(), x25519_public(b.key));
  Buffer from_a = testing::seal(*a.session, frame_of(10), now);
  Buffer from_b = testing::seal(*b.session, frame_of(20), now);
  std::uint32_t a_index = classify(from_a).receiver_index;
  std::uint32_t b_index = classify(from_b).receiver_index;
  EXPECT_TRUE(a.at_server->owns_index(a_index) && !a.at_server->owns_index(b_index));
  EXPECT_TRUE(b.at_server->owns_index(b_index) && !b.at_server->owns_index(a_index));
  Verdict va = to_server(from_a);
  ASSERT_EQ(va.action, Action::deliver) << va.reason;
  EXPECT_EQ(as_buffer(va), frame_of(10));
  Verdict vb = to_server(from_b);
  ASSERT_EQ(vb.action, Action::deliver) << vb.reason;
  EXPECT_EQ(as_buffer(vb), frame_of(20));
  // A's message handed to B's session does not open there.
  EXPECT_EQ(open(*b.at_server, from_a).reason, "transport message for no live session");
  // And back: each client opens what its own server session sealed.
  EXPECT_EQ(open(*a.session, testing::seal(*a.at_server, frame_of(3), now)).action,
            Action::deliver);
  EXPECT_NE(open(*a.session, testing::seal(*b.at_server, frame_of(3), now)).action,
            Action::deliver);
}

TEST_F(Hub, TimestampsAndRemovalArePerClientKey) {
  connect(a);
  connect(b);
  Buffer a_init = testing::initiation(*a.session, now);
  ASSERT_TRUE(std::holds_alternative<Initiation>(server_id->consume_initiation(a_init, now)));
  auto replay = server_id->consume_initiation(a_init, now);
  ASSERT_TRUE(std::holds_alternative<Verdict>(replay));
  EXPECT_NE(std::get<Verdict>(replay).reason.find("timestamp went backwards"), std::string::npos);
  now += 1s;
  connect(b);  // B's timestamps are its own
  // SIGHUP removes A: A's server session ends, B's keeps running.
  server_id->update({x25519_public(b.key)}, std::nullopt);
  for (Client* c : {&a, &b}) c->at_server->drop_disallowed();
  EXPECT_FALSE(a.at_server->ready(now));
  EXPECT_TRUE(b.at_server->ready(now));
  EXPECT_EQ(to_server(testing::seal(*b.session, frame_of(5), now)).action, Action::deliver);
  EXPECT_EQ(to_server(testing::seal(*a.session, frame_of(5), now)).action, Action::drop);
}

}  // namespace
}  // namespace tund::crypto::testing
