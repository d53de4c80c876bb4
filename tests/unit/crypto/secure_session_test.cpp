// The transitional facade the daemon still uses (one Identity, one Session, the routing
// between them). The protocol itself is tested in identity_test and session_test.
#include "tund/crypto/secure_session.hpp"

#include <gtest/gtest.h>

#include "crypto_peers.hpp"

namespace tund::crypto::testing {
namespace {

struct Facade : ::testing::Test {
  Key client_key, server_key;
  Time now = Time{} + 1000h;
  std::unique_ptr<SecureSession> client, server;

  void SetUp() override {
    init_sodium();
    client_key = random_private_key();
    server_key = random_private_key();
  }
  SecureConfig client_config() {
    SecureConfig c;
    c.private_key = client_key;
    c.peer_public = x25519_public(server_key);
    return c;
  }
  SecureConfig server_config() {
    SecureConfig c;
    c.initiator = false;
    c.private_key = server_key;
    c.allowed = {x25519_public(client_key)};
    return c;
  }
  Verdict to(SecureSession& side, Buffer& m) { return side.receive(m.data(), m.size(), now); }
  Buffer sealed(SecureSession& from, const Buffer& frame) {
    Buffer m(proto::kTransportOverhead + frame.size());
    std::copy(frame.begin(), frame.end(), m.begin() + proto::kTransportHeaderSize);
    m.resize(from.seal(m.data(), frame.size(), now));
    return m;
  }
};

TEST_F(Facade, RoutesTheHandshakeAndFramesBetweenIdentityAndSession) {
  client = std::make_unique<SecureSession>(client_config());
  server = std::make_unique<SecureSession>(server_config());
  ASSERT_TRUE(client->handshake_due(now));
  Buffer init(proto::kInitiationSize);
  EXPECT_FALSE(client->write_initiation(init.data(), now));
  Verdict r = to(*server, init);
  ASSERT_EQ(r.action, Action::reply) << r.reason;
  EXPECT_TRUE(r.established);
  Buffer response = as_buffer(r);
  ASSERT_TRUE(to(*client, response).send_confirmation);
  Buffer frame = sealed(*client, frame_of(64));
  Verdict v = to(*server, frame);
  ASSERT_EQ(v.action, Action::deliver) << v.reason;
  EXPECT_EQ(as_buffer(v), frame_of(64));
  EXPECT_TRUE(server->ready(now));
  EXPECT_STREQ(server->cipher_name(), "ChaCha20-Poly1305");
  // The replayed initiation is the identity's refusal; both count in the one stats().
  Verdict again = to(*server, init);
  EXPECT_NE(again.reason.find("timestamp went backwards"), std::string::npos);
  Buffer junk = bytes({9, 0, 0, 0});
  to(*server, junk);
  EXPECT_EQ(server->stats().handshakes_completed, 1u);
  EXPECT_EQ(server->stats().handshakes_refused, 1u);
  EXPECT_EQ(server->stats().malformed, 1u);
  Buffer wrong_size(50, std::byte{0});
  wrong_size[0] = std::byte{3};
  EXPECT_EQ(to(*server, wrong_size).reason, "initiation of wrong size");
  EXPECT_EQ(to(*client, init).reason, "handshake initiation sent to a client");
  client->reset();
  EXPECT_FALSE(client->ready(now));
}

TEST_F(Facade, LowOrderConfiguredKeysAreRefusedAtConstruction) {
  auto c = client_config();
  c.peer_public = Key{};
  EXPECT_THROW(SecureSession{c}, KeyError);
  auto s = server_config();
  s.allowed.push_back(Key{});
  EXPECT_THROW(SecureSession{s}, KeyError);
}

// As before the split: the server key is checked first, and nothing changes on an error.
TEST_F(Facade, UpdatePeerKeysChecksEveryKeyBeforeChangingAnything) {
  server = std::make_unique<SecureSession>(server_config());
  try {
    server->update_peer_keys(Key{}, {Key{}}, std::nullopt);
    FAIL();
  } catch (const KeyError& e) {
    EXPECT_NE(std::string(e.what()).find("--peer-key"), std::string::npos) << e.what();
  }
  client = std::make_unique<SecureSession>(client_config());
  Buffer init(proto::kInitiationSize);
  client->write_initiation(init.data(), now);
  EXPECT_EQ(to(*server, init).action, Action::reply) << "the allow-list is unchanged";
  server->update_peer_keys(std::nullopt, {x25519_public(random_private_key())}, std::nullopt);
  EXPECT_FALSE(server->ready(now)) << "the removed client's session ended";
}

}  // namespace
}  // namespace tund::crypto::testing
