// Per-peer psk (hub peer files): SessionConfig::psk is used instead of the identity's, on
// both sides. A hub identity without a psk reads each client's initiation as IK or IKpsk2,
// and the client's session decides whether that is right.
#include <gtest/gtest.h>

#include "crypto_peers.hpp"

namespace tund::crypto::testing {
namespace {

class PeerPsk : public CryptoPeers {
 protected:
  Key psk = random_private_key();

  // Client and server sessions with these psks (the client's identity has none).
  void make_with(std::optional<Key> client_psk, std::optional<Key> server_psk, IdentityConfig si) {
    auto cs = client_session();
    cs.psk = client_psk;
    auto ss = server_session();
    ss.psk = server_psk;
    make(client_identity(), cs, std::move(si), ss);
  }
  void make_with(std::optional<Key> client_psk, std::optional<Key> server_psk) {
    make_with(client_psk, server_psk, server_identity());
  }
};

TEST_F(PeerPsk, HubWithoutIdentityPskTalksToAClientWithTheSamePsk) {
  make_with(psk, psk);
  handshake();
  EXPECT_EQ(open(*server, seal(*client, frame_of(40))).action, Action::deliver);
  EXPECT_EQ(open(*client, seal(*server, frame_of(40))).action, Action::deliver);
}

TEST_F(PeerPsk, AClientWhoseIdentityHasThePskWorksToo) {
  auto ci = client_identity();
  ci.psk = psk;  // today's client: --psk on its identity
  auto ss = server_session();
  ss.psk = psk;
  make(ci, client_session(), server_identity(), ss);
  handshake();
}

TEST_F(PeerPsk, ThePeersPskWinsOverTheIdentitys) {
  auto si = server_identity();
  si.psk = random_private_key();  // a hub-wide psk, overridden for this peer
  make_with(psk, psk, si);
  handshake();
}

TEST_F(PeerPsk, AWrongPskFailsAtTheClientWithAReasonAndACount) {
  make_with(random_private_key(), psk);
  Verdict r = answer(initiation());
  ASSERT_EQ(r.action, Action::reply) << "the responder cannot tell before message 2";
  Buffer response = as_buffer(r);
  Verdict v = client->receive(response.data(), response.size(), now);
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_NE(v.reason.find("failed authentication"), std::string::npos) << v.reason;
  EXPECT_FALSE(v.established);
  EXPECT_FALSE(client->ready(now));
  EXPECT_EQ(client->stats().handshakes_failed, 1u);
  // The server's keypair is never confirmed: nothing the client seals opens there.
  EXPECT_TRUE(client->handshake_due(now + 3s)) << "the client keeps retrying";
}

TEST_F(PeerPsk, AClientWithoutAPskIsRefusedByAPeerThatHasOne) {
  make_with(std::nullopt, psk);
  Verdict v = answer(initiation());
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_EQ(v.reason, "client key " + to_base64(x25519_public(client_key)) +
                          " made its handshake without a psk, but one is configured for it");
  EXPECT_EQ(server->stats().handshakes_failed, 1u);
  EXPECT_FALSE(server->ready(now));
}

TEST_F(PeerPsk, AClientWithAPskIsRefusedByAPeerWithout) {
  make_with(psk, std::nullopt);
  Verdict v = answer(initiation());
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_NE(v.reason.find("with a psk, but none is configured"), std::string::npos) << v.reason;
  EXPECT_EQ(server->stats().handshakes_failed, 1u);
}

// One hub identity, two clients: one with a psk, one without; both get in.
TEST_F(PeerPsk, OneIdentityServesPeersWithAndWithoutPsk) {
  Key other = random_private_key();
  auto si = server_identity();
  si.allowed.push_back(x25519_public(other));
  make_with(psk, psk, si);
  handshake();
  Identity other_id({other, std::nullopt, {}, false});
  Session other_client(other_id, client_session());
  Session other_at_server(*server_id, server_session());
  Verdict r =
      testing::answer(*server_id, other_at_server, testing::initiation(other_client, now), now);
  ASSERT_EQ(r.action, Action::reply) << r.reason;
  Buffer response = as_buffer(r);
  EXPECT_TRUE(other_client.receive(response.data(), response.size(), now).established);
}

}  // namespace
}  // namespace tund::crypto::testing
