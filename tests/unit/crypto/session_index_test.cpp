// Sessions drawing their local indices through an IndexRegistry (the hub's index -> peer
// map): every claim is released exactly once, whatever ends the index (rotation, expiry,
// reset, drop_disallowed, a replaced initiation, destruction), and refused draws are
// drawn again.
#include <gtest/gtest.h>

#include <set>

#include "crypto_peers.hpp"

namespace tund::crypto::testing {
namespace {

// Refuses the first `refuse` claims, then grants indices nobody holds; records mistakes.
class FakeRegistry : public IndexRegistry {
 public:
  explicit FakeRegistry(int refuse = 0) : refuse_(refuse) {}
  bool claim(std::uint32_t index) override {
    ++claims;
    if (index == 0) ++zero_claims;
    if (refuse_ > 0) {
      --refuse_;
      ++refused;
      return false;
    }
    return held.insert(index).second;
  }
  void release(std::uint32_t index) override {
    ++releases;
    if (held.erase(index) == 0) ++unknown_releases;  // double or never claimed
  }
  std::set<std::uint32_t> held;
  int claims = 0, refused = 0, releases = 0, unknown_releases = 0, zero_claims = 0;

 private:
  int refuse_;
};

class Indices : public CryptoPeers {
 protected:
  FakeRegistry client_reg{3}, server_reg{5};

  // The registries must outlive the sessions (the fixture's base holds those).
  void TearDown() override {
    client.reset();
    server.reset();
  }

  void make_registered() {
    auto cs = client_session();
    cs.indices = &client_reg;
    auto ss = server_session();
    ss.indices = &server_reg;
    make(client_identity(), cs, server_identity(), ss);
  }
  // Each held index is one the session owns (so none leaked), and no mistakes so far.
  void expect_balanced(const FakeRegistry& reg, const Session& s, std::size_t held) {
    EXPECT_EQ(reg.held.size(), held);
    for (std::uint32_t i : reg.held) EXPECT_TRUE(s.owns_index(i)) << i;
    EXPECT_EQ(reg.unknown_releases, 0);
    EXPECT_EQ(reg.zero_claims, 0);
    EXPECT_EQ(reg.claims - reg.refused - reg.releases, static_cast<int>(reg.held.size()));
  }
  void rekey() {
    now += 121s;
    ASSERT_TRUE(client->handshake_due(now));
    handshake();
  }
};

TEST_F(Indices, RefusedDrawsAreDrawnAgainAndHandshakesWork) {
  make_registered();
  Buffer init = initiation();
  EXPECT_EQ(client_reg.refused, 3);
  EXPECT_EQ(client_reg.held, std::set<std::uint32_t>{util::load_be32(init.data() + 4)});
  Verdict r = answer(init);
  ASSERT_EQ(r.action, Action::reply) << r.reason;
  EXPECT_EQ(server_reg.refused, 5);
  EXPECT_EQ(server_reg.held, std::set<std::uint32_t>{util::load_be32(r.data + 4)});
  Buffer response = as_buffer(r);
  ASSERT_TRUE(open(*client, response).established);
  expect_balanced(client_reg, *client, 1);  // the pending index became the keypair's
  expect_balanced(server_reg, *server, 1);
}

TEST_F(Indices, ReplacedInitiationsReleaseTheirIndex) {
  make_registered();
  for (int i = 0; i < 4; ++i) {
    initiation();
    now += 3s;
    expect_balanced(client_reg, *client, 1);
  }
  EXPECT_EQ(client_reg.releases, 3);
}

TEST_F(Indices, RekeysKeepAtMostCurrentPreviousAndNext) {
  make_registered();
  handshake();
  for (int i = 0; i < 5; ++i) {
    rekey();
    expect_balanced(client_reg, *client, 2);  // current and previous
    expect_balanced(server_reg, *server, 2);
  }
  // A rekey the client has not confirmed: the server holds next as well.
  now += 121s;
  answer(initiation());
  expect_balanced(server_reg, *server, 3);
  expect_balanced(client_reg, *client, 3);  // current, previous and the pending initiation
  // A second unconfirmed initiation replaces next (and the client's pending one).
  now += 3s;
  answer(initiation());
  expect_balanced(server_reg, *server, 3);
  expect_balanced(client_reg, *client, 3);
}

TEST_F(Indices, ExpiryResetDropAndDestructionReleaseEverything) {
  make_registered();
  handshake();
  rekey();
  now += 181s;
  client->expire(now);
  server->expire(now);
  expect_balanced(client_reg, *client, 0);
  expect_balanced(server_reg, *server, 0);
  handshake();
  client->reset();
  expect_balanced(client_reg, *client, 0);
  server_id->update({}, std::nullopt);
  server->drop_disallowed();
  expect_balanced(server_reg, *server, 0);
  server_id->update({x25519_public(client_key)}, std::nullopt);
  now += 1s;
  handshake();
  rekey();
  initiation();  // pending as well
  client.reset();
  server.reset();
  EXPECT_TRUE(client_reg.held.empty());
  EXPECT_TRUE(server_reg.held.empty());
  EXPECT_EQ(client_reg.unknown_releases + server_reg.unknown_releases, 0);
  EXPECT_EQ(client_reg.claims - client_reg.refused, client_reg.releases);
  EXPECT_EQ(server_reg.claims - server_reg.refused, server_reg.releases);
}

TEST_F(Indices, ATransportMessageUnderAnExpiredKeypairReleasesIt) {
  make_registered();
  handshake();
  Buffer late = seal(*client, frame_of(10));
  now += 181s;
  EXPECT_EQ(open(*server, late).reason, "transport message for an expired session");
  expect_balanced(server_reg, *server, 0);
}

// Without a registry a session only avoids its own indices, as before.
TEST_F(Indices, WithoutARegistryIndicesStillDifferAndWork) {
  make();
  handshake();
  rekey();
  EXPECT_EQ(open(*server, seal(*client, frame_of(3))).action, Action::deliver);
}

// A registry that refuses everything is broken: an exception, not a hang.
TEST_F(Indices, ARegistryThatRefusesEverythingThrowsInsteadOfHanging) {
  FakeRegistry never(1 << 30);
  auto cs = client_session();
  cs.indices = &never;
  make(client_identity(), cs, server_identity(), server_session());
  Buffer m(proto::kInitiationSize);
  EXPECT_THROW(client->write_initiation(m.data(), now), std::length_error);
  EXPECT_FALSE(client->owns_index(0));
  EXPECT_TRUE(never.held.empty());
  client.reset();
}

}  // namespace
}  // namespace tund::crypto::testing
