// One peer's session between two in-memory sides (two Identities, two Sessions), with time
// passed by hand: handshakes, frames, replay, rekey, expiry, retries.
#include "tund/crypto/session.hpp"

#include <gtest/gtest.h>

#include "crypto_peers.hpp"

namespace tund::crypto::testing {
namespace {

using Peers = CryptoPeers;

TEST_F(Peers, HandshakeThenFramesBothWays) {
  make();
  EXPECT_FALSE(client->ready(now));
  EXPECT_TRUE(client->handshake_due(now));
  handshake();
  EXPECT_TRUE(client->ready(now));
  EXPECT_TRUE(server->ready(now));
  for (std::size_t n : {1u, 84u, 1400u}) {
    Verdict v = open(*server, seal(*client, frame_of(n)));
    ASSERT_EQ(v.action, Action::deliver) << v.reason;
    EXPECT_EQ(as_buffer(v), frame_of(n));
    Verdict back = open(*client, seal(*server, frame_of(n)));
    ASSERT_EQ(back.action, Action::deliver) << back.reason;
    EXPECT_EQ(as_buffer(back), frame_of(n));
  }
  EXPECT_FALSE(client->handshake_due(now));
  EXPECT_FALSE(server->handshake_due(now)) << "a responder never initiates";
  EXPECT_STREQ(client->cipher_name(), "ChaCha20-Poly1305");
  EXPECT_STREQ(server->cipher_name(), "ChaCha20-Poly1305");
  EXPECT_EQ(client->stats().handshakes_completed, 1u);
  EXPECT_EQ(server->stats().handshakes_completed, 1u);
}

TEST_F(Peers, BothOfferingAesAgreeOnItWhereTheCpuHasIt) {
  if (!aes256gcm_available()) GTEST_SKIP() << "no AES-NI on this CPU";
  auto ci = client_identity(), si = server_identity();
  ci.offer_aes = si.offer_aes = true;
  make(ci, client_session(), si, server_session());
  EXPECT_STREQ(client->cipher_name(), "none");
  handshake();
  EXPECT_STREQ(client->cipher_name(), "AES-256-GCM");
  EXPECT_STREQ(server->cipher_name(), "AES-256-GCM");
  EXPECT_EQ(open(*server, seal(*client, frame_of(99))).action, Action::deliver);
}

TEST_F(Peers, SealedFrameHidesThePlaintextAndAddsTheDocumentedOverhead) {
  make();
  handshake();
  Buffer f(100, std::byte{'M'});
  Buffer m = seal(*client, f);
  EXPECT_EQ(m.size(), f.size() + proto::kTransportOverhead);
  EXPECT_EQ(std::search(m.begin(), m.end(), f.begin(), f.begin() + 8), m.end());
}

TEST_F(Peers, FlippingAnySingleByteMakesOpenFail) {
  make();
  handshake();
  Buffer m = seal(*client, frame_of(60));
  for (std::size_t i = 0; i < m.size(); ++i) {
    for (unsigned bit : {0x01u, 0x80u}) {
      Buffer bad = m;
      bad[i] ^= static_cast<std::byte>(bit);
      Verdict v = open(*server, bad);
      EXPECT_NE(v.action, Action::deliver) << "byte " << i;
      EXPECT_FALSE(v.authenticated) << "byte " << i;
    }
  }
  EXPECT_EQ(open(*server, m).action, Action::deliver) << "the original still opens";
}

TEST_F(Peers, ReplayedAndOldCountersAreRejected) {
  make();
  handshake();
  Buffer first = seal(*client, frame_of(20));
  Buffer second = seal(*client, frame_of(20));
  EXPECT_EQ(open(*server, second).action, Action::deliver);
  EXPECT_EQ(open(*server, first).action, Action::deliver) << "reordering within the window is fine";
  Verdict again = open(*server, first);
  EXPECT_EQ(again.action, Action::drop);
  EXPECT_EQ(again.reason, "replayed or too old counter");
  EXPECT_EQ(server->stats().replayed, 1u);
}

TEST_F(Peers, StreamModeRejectsAnyOlderCounter) {
  auto cs = client_session(), ss = server_session();
  cs.stream = ss.stream = true;
  make(client_identity(), cs, server_identity(), ss);
  handshake();
  Buffer first = seal(*client, frame_of(20));
  Buffer second = seal(*client, frame_of(20));
  EXPECT_EQ(open(*server, second).action, Action::deliver);
  EXPECT_EQ(open(*server, first).action, Action::drop);
}

TEST_F(Peers, LowOrderEphemeralInAResponseIsRefusedNotThrown) {
  make();
  Verdict r = answer(initiation());
  ASSERT_EQ(r.action, Action::reply);
  Buffer response = as_buffer(r);
  std::fill(response.begin() + 12, response.begin() + 12 + kKeySize, std::byte{0});
  Verdict v;
  EXPECT_NO_THROW(v = client->receive(response.data(), response.size(), now));
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_FALSE(v.established);
  EXPECT_NE(v.reason.find("low-order ephemeral key"), std::string::npos) << v.reason;
  EXPECT_EQ(client->stats().handshakes_failed, 1u);
}

TEST_F(Peers, LowOrderConfiguredServerKeyIsRefusedAtConstruction) {
  make();
  auto cs = client_session();
  cs.peer_public = Key{};
  EXPECT_THROW(Session(*client_id, cs), KeyError);
}

TEST_F(Peers, PskMustMatchOnBothSides) {
  auto ci = client_identity(), si = server_identity();
  ci.psk = random_private_key();
  si.psk = ci.psk;
  make(ci, client_session(), si, server_session());
  handshake();
  // A different psk: IKpsk2 mixes it in at the end of message 2, so the responder cannot
  // tell yet; the initiator rejects the response and no session comes up on either side.
  si.psk = random_private_key();
  make(ci, client_session(), si, server_session());
  Verdict r = answer(initiation());
  ASSERT_EQ(r.action, Action::reply);
  Buffer response = as_buffer(r);
  Verdict v = client->receive(response.data(), response.size(), now);
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_FALSE(v.established);
  EXPECT_FALSE(client->ready(now));
  EXPECT_EQ(client->stats().handshakes_failed, 1u);
}

TEST_F(Peers, UnencryptedMessagesAreRefused) {
  make();
  handshake();
  for (Buffer plain : {bytes({1, 0, 0, 0, 0x45, 0, 0, 20}),            // plaintext UDP data
                       bytes({0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 1}),  // raw IPv4 (TCP framing)
                       bytes({0x60, 0, 0, 0, 0, 8, 58, 64})}) {        // raw IPv6
    Verdict v = open(*server, plain);
    EXPECT_EQ(v.action, Action::drop);
    EXPECT_EQ(v.reason, "unencrypted message refused (is encryption off on the peer?)");
  }
  EXPECT_EQ(server->stats().malformed, 3u);
}

TEST_F(Peers, MessagesInTheWrongDirectionAreRefusedBeforeTheirSize) {
  make();
  Buffer init = initiation();
  Verdict v = open(*client, init);
  EXPECT_EQ(v.reason, "handshake initiation sent to a client");
  init.resize(20);
  EXPECT_EQ(open(*client, init).reason, "handshake initiation sent to a client");
  Verdict r = answer(initiation());
  ASSERT_EQ(r.action, Action::reply);
  Buffer response = as_buffer(r);
  EXPECT_EQ(open(*server, response).reason, "handshake response sent to a server");
  response.resize(30);
  EXPECT_EQ(open(*server, response).reason, "handshake response sent to a server");
  EXPECT_EQ(open(*client, response).reason, "response of wrong size");
  EXPECT_EQ(open(*server, initiation()).reason, "handshake initiation passed to a session")
      << "the identity reads initiations";
  EXPECT_EQ(client->stats().malformed, 3u);
  EXPECT_EQ(server->stats().malformed, 3u);
  // An initiation the server's identity authenticated, handed to a client's session.
  auto authenticated = server_id->consume_initiation(initiation(), now);
  ASSERT_TRUE(std::holds_alternative<Initiation>(authenticated));
  Verdict misrouted = client->respond(std::move(std::get<Initiation>(authenticated)), now);
  EXPECT_EQ(misrouted.action, Action::drop);
  EXPECT_EQ(misrouted.reason, "handshake initiation sent to a client");
  EXPECT_FALSE(client->ready(now));
}

TEST_F(Peers, ResponsesAndFramesForNoSessionAreCountedAsUnknown) {
  make();
  Verdict r = answer(initiation());
  Buffer response = as_buffer(r);
  Buffer stray = response;
  Verdict ok = open(*client, response);
  ASSERT_TRUE(ok.established);
  Verdict again = open(*client, stray);
  EXPECT_EQ(again.reason, "handshake response to no pending initiation");
  Buffer frame = seal(*client, frame_of(8));
  client->reset();
  server->reset();
  EXPECT_EQ(open(*server, frame).reason, "transport message for no live session");
  EXPECT_EQ(server->stats().unknown_session, 1u);
  EXPECT_EQ(client->stats().unknown_session, 1u);
  EXPECT_FALSE(client->ready(now));
  EXPECT_TRUE(client->handshake_due(now)) << "after a reset: handshake again";
}

TEST_F(Peers, RekeyKeepsTrafficFlowingAndOldFramesStillOpen) {
  make();
  handshake();
  now += 121s;
  EXPECT_TRUE(client->handshake_due(now));
  Buffer in_flight = seal(*client, frame_of(30));  // sealed under the old keys
  Buffer old_from_server = seal(*server, frame_of(31));
  Verdict r = answer(initiation());
  ASSERT_EQ(r.action, Action::reply);
  EXPECT_FALSE(r.established) << "the responder keeps the old session until confirmed";
  // The server still sends on the old session meanwhile.
  EXPECT_EQ(open(*client, seal(*server, frame_of(5))).action, Action::deliver);
  Buffer response = as_buffer(r);
  Verdict done = client->receive(response.data(), response.size(), now);
  ASSERT_TRUE(done.established);
  EXPECT_EQ(open(*server, in_flight).action, Action::deliver) << "old keys still open";
  EXPECT_EQ(open(*client, old_from_server).action, Action::deliver);
  Verdict confirm = open(*server, seal(*client, frame_of(7)));
  EXPECT_EQ(confirm.action, Action::deliver);
  EXPECT_TRUE(confirm.established) << "the server switches on the first frame under new keys";
  EXPECT_EQ(open(*client, seal(*server, frame_of(9))).action, Action::deliver);
  EXPECT_EQ(client->stats().handshakes_completed, 2u);
}

TEST_F(Peers, RekeyAfterTooManyMessages) {
  auto cs = client_session();
  cs.rekey_after_messages = 3;
  make(client_identity(), cs, server_identity(), server_session());
  handshake();  // the confirmation used counter 0
  seal(*client, frame_of(1));
  EXPECT_FALSE(client->handshake_due(now));
  seal(*client, frame_of(1));
  EXPECT_TRUE(client->handshake_due(now));
}

TEST_F(Peers, SessionsExpireAndRetriesBackOff) {
  make();
  handshake();
  now += 181s;
  EXPECT_FALSE(client->ready(now));
  EXPECT_FALSE(server->ready(now));
  Verdict late = open(*server, seal(*client, frame_of(3)));
  EXPECT_EQ(late.action, Action::drop);
  EXPECT_EQ(late.reason, "transport message for an expired session");
  // Unanswered initiations are retried with growing delays.
  initiation();
  EXPECT_FALSE(client->handshake_due(now + 500ms));
  EXPECT_TRUE(client->handshake_due(now + 2s));
  now += 2s;
  initiation();
  EXPECT_FALSE(client->handshake_due(now + 1900ms));
  EXPECT_TRUE(client->handshake_due(now + 4s));
}

// A batch opened in steps (the engine's workers): a later message finding its keypair
// expired is refused without freeing it, so an earlier job of the same batch still opens
// with it (ASan would catch a freed key); the timer's expire() wipes it after.
TEST_F(Peers, PrepareOpenRefusesAnExpiredKeypairWithoutFreeingIt) {
  make();
  handshake();
  auto first = seal(*client, frame_of(10));
  auto second = seal(*client, frame_of(20));
  now += 179s;
  std::uint32_t index = classify({first.data(), first.size()}).receiver_index;
  Verdict refusal;
  auto job = server->prepare_open(first.data(), first.size(), index, now, refusal);
  ASSERT_TRUE(job) << refusal.reason;
  now += 2s;  // past reject_after_time
  auto late = server->prepare_open(second.data(), second.size(), index, now, refusal);
  EXPECT_FALSE(late);
  EXPECT_EQ(refusal.reason, "transport message for an expired session");
  job->run();
  EXPECT_TRUE(job->opened);
  Verdict v = server->finish_open(*job);
  ASSERT_EQ(v.action, Action::deliver) << v.reason;
  EXPECT_EQ(as_buffer(v), frame_of(10));
  server->expire(now);
  EXPECT_FALSE(server->owns_index(index));
}

// `tund show` keeps "latest handshake" for a peer that is gone, as `wg show` does.
TEST_F(Peers, LastHandshakeSurvivesResetAndExpiry) {
  make();
  EXPECT_FALSE(client->last_handshake().has_value()) << "none ever completed";
  EXPECT_FALSE(server->last_handshake().has_value());
  handshake();
  Time at = now;
  EXPECT_EQ(client->last_handshake(), at);
  EXPECT_EQ(server->last_handshake(), at);
  now += 181s;
  client->expire(now);
  server->expire(now);
  EXPECT_FALSE(client->keyed());
  EXPECT_EQ(client->last_handshake(), at) << "expired keypairs keep their history";
  client->reset();
  server->reset();
  EXPECT_FALSE(server->keyed());
  EXPECT_EQ(client->last_handshake(), at) << "reset keeps it too";
  EXPECT_EQ(server->last_handshake(), at);
  handshake();
  EXPECT_EQ(client->last_handshake(), now) << "a new handshake moves it";
}

// proto::kHandshakeRetryInitial doubling to proto::kHandshakeRetryCap, each delay jittered
// into [delay/2, delay]; an answered handshake starts the schedule over.
TEST_F(Peers, RetryScheduleDoublesToTheCapWithJitter) {
  make();
  std::vector<std::chrono::milliseconds> expected = {2s, 4s, 8s, 16s, 16s, 16s};
  Buffer m(proto::kInitiationSize);
  bool first = true;
  for (auto delay : expected) {
    EXPECT_EQ(client->write_initiation(m.data(), now), !first);
    first = false;
    EXPECT_FALSE(client->handshake_due(now + delay / 2 - 1ms)) << delay.count();
    EXPECT_TRUE(client->handshake_due(now + delay)) << delay.count();
    now += delay;
  }
  handshake();
  client->reset();
  EXPECT_FALSE(client->write_initiation(m.data(), now));
  EXPECT_FALSE(client->handshake_due(now + 999ms)) << "the schedule started over";
}

TEST_F(Peers, WriteInitiationSaysWhetherItIsARetry) {
  make();
  Buffer m(proto::kInitiationSize);
  EXPECT_FALSE(client->write_initiation(m.data(), now));
  EXPECT_TRUE(client->write_initiation(m.data(), now + 2s));
  handshake();
  now += 121s;
  EXPECT_FALSE(client->write_initiation(m.data(), now)) << "a rekey is not a retry";
  EXPECT_FALSE(client->handshake_due(now + 999ms)) << "the schedule started over";
}

TEST_F(Peers, GarbageNeverCrashesAndIsCounted) {
  make();
  handshake();
  Buffer junk;
  std::uint64_t before = server->stats().malformed;
  for (std::size_t size : {0u, 3u, 4u, 16u, 31u, 32u, 61u, 117u, 1500u}) {
    for (unsigned type = 0; type < 8; ++type) {
      junk.assign(size, std::byte{0xa5});
      if (size) junk[0] = static_cast<std::byte>(type);
      if (size > 3) junk[1] = junk[2] = junk[3] = std::byte{0};
      for (Session* side : {server.get(), client.get()}) {
        Verdict v = open(*side, junk);
        EXPECT_NE(v.action, Action::deliver);
        EXPECT_FALSE(v.authenticated);
        EXPECT_FALSE(v.reason.empty());
      }
    }
  }
  EXPECT_GT(server->stats().malformed, before);
}

// owns_index: what the tunnel asks to route a response or transport message to a session.
TEST_F(Peers, OwnsItsPendingCurrentPreviousAndNextIndices) {
  make();
  EXPECT_FALSE(client->owns_index(0));
  Buffer init = initiation();
  std::uint32_t pending = util::load_be32(init.data() + 4);
  EXPECT_TRUE(client->owns_index(pending));
  EXPECT_FALSE(client->owns_index(pending + 1));
  Verdict r = answer(init);
  ASSERT_EQ(r.action, Action::reply);
  std::uint32_t server_index = util::load_be32(r.data + 4);
  EXPECT_EQ(util::load_be32(r.data + 8), pending) << "the response names the client's index";
  EXPECT_TRUE(server->owns_index(server_index));
  EXPECT_FALSE(client->owns_index(server_index));
  Buffer response = as_buffer(r);
  ASSERT_TRUE(open(*client, response).established);
  EXPECT_TRUE(client->owns_index(pending)) << "now the current keypair's";
  // A rekey: the server's new keypair waits in `next`, the old one stays owned.
  now += 121s;
  Buffer rekey = initiation();
  std::uint32_t second = util::load_be32(rekey.data() + 4);
  EXPECT_TRUE(client->owns_index(pending) && client->owns_index(second));
  Verdict r2 = answer(rekey);
  std::uint32_t server_next = util::load_be32(r2.data + 4);
  EXPECT_TRUE(server->owns_index(server_index) && server->owns_index(server_next));
  client->reset();
  server->reset();
  for (std::uint32_t i : {pending, second}) EXPECT_FALSE(client->owns_index(i));
  for (std::uint32_t i : {server_index, server_next}) EXPECT_FALSE(server->owns_index(i));
}

TEST_F(Peers, PeerKeyIsTheOtherSidesStaticKey) {
  make();
  EXPECT_EQ(server->peer_key(), std::nullopt);
  handshake();
  EXPECT_EQ(server->peer_key(), x25519_public(client_key));
  EXPECT_EQ(client->peer_key(), x25519_public(server_key));
}

// SIGHUP on a client: the new server key is used from the next handshake on.
TEST_F(Peers, UpdatedServerKeyAppliesToTheNextHandshake) {
  auto cs = client_session();
  cs.peer_public = x25519_public(random_private_key());
  make(client_identity(), cs, server_identity(), server_session());
  EXPECT_EQ(answer(initiation()).action, Action::drop);
  EXPECT_THROW(client->update_peer_key(Key{}), KeyError);
  client->update_peer_key(std::nullopt);  // unchanged
  EXPECT_EQ(answer(initiation()).action, Action::drop);
  client->update_peer_key(x25519_public(server_key));
  now += 1s;
  handshake();
  EXPECT_TRUE(client->ready(now));
}

// Two sessions, two identities and the time moving on: several rekeys, frames under each
// keypair, the previous keypair opening until it expires, replays refused throughout.
TEST_F(Peers, SeveralRekeysOverTimeWithReplaysRefused) {
  make();
  handshake();
  Buffer first_keys = seal(*client, frame_of(40));
  for (int round = 0; round < 3; ++round) {
    now += 121s;
    ASSERT_TRUE(client->handshake_due(now));
    Buffer frame = seal(*client, frame_of(50));
    handshake();
    EXPECT_EQ(open(*server, frame).action, Action::deliver) << "previous keys open";
    EXPECT_EQ(open(*server, frame).reason, "replayed or too old counter");
    Buffer fresh = seal(*client, frame_of(60));
    EXPECT_EQ(open(*server, fresh).action, Action::deliver);
    EXPECT_EQ(open(*server, fresh).action, Action::drop);
  }
  EXPECT_EQ(open(*server, first_keys).reason, "transport message for no live session")
      << "two rekeys later the first keypair is gone";
  EXPECT_EQ(client->stats().handshakes_completed, 4u);
  EXPECT_EQ(server->stats().handshakes_completed, 4u);
  EXPECT_EQ(server->stats().replayed, 6u);
}

TEST(SessionStats, Add) {
  SessionStats a{1, 2, 3, 4, 5, 6, 7}, b{10, 20, 30, 40, 50, 60, 70};
  a += b;
  EXPECT_EQ(a.handshakes_completed, 11u);
  EXPECT_EQ(a.handshakes_failed, 22u);
  EXPECT_EQ(a.handshakes_refused, 33u);
  EXPECT_EQ(a.auth_failed, 44u);
  EXPECT_EQ(a.replayed, 55u);
  EXPECT_EQ(a.unknown_session, 66u);
  EXPECT_EQ(a.malformed, 77u);
}

}  // namespace
}  // namespace tund::crypto::testing
