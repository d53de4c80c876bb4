// The encrypted protocol core between two in-memory peers, with a manual clock.
#include "tund/crypto/secure_session.hpp"

#include <gtest/gtest.h>

#include "tund/crypto/keys.hpp"
#include "tund/proto/wire.hpp"

namespace tund::crypto {
namespace {

using namespace std::chrono_literals;
using Buffer = std::vector<std::uint8_t>;

struct Peers : ::testing::Test {
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
    c.initiator = true;
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
  void make(SecureConfig c = {}, SecureConfig s = {}, bool defaults = true) {
    client = std::make_unique<SecureSession>(defaults ? client_config() : c);
    server = std::make_unique<SecureSession>(defaults ? server_config() : s);
  }
  Buffer initiation() {
    Buffer m(proto::kInitiationSize);
    client->write_initiation(m.data(), now);
    return m;
  }
  // Full handshake including the client's confirmation frame.
  void handshake() {
    Buffer init = initiation();
    Verdict r = server->receive(init.data(), init.size(), now);
    ASSERT_EQ(r.action, Action::reply) << r.reason;
    Buffer response(r.data, r.data + r.size);
    Verdict done = client->receive(response.data(), response.size(), now);
    ASSERT_TRUE(done.established) << done.reason;
    ASSERT_TRUE(done.send_confirmation);
    Buffer confirm = seal(*client, Buffer{});
    Verdict c = server->receive(confirm.data(), confirm.size(), now);
    ASSERT_TRUE(c.authenticated) << c.reason;
    EXPECT_EQ(c.action, Action::none);
  }
  Buffer seal(SecureSession& from, const Buffer& frame) {
    Buffer m(proto::kTransportOverhead + frame.size());
    std::copy(frame.begin(), frame.end(), m.begin() + proto::kTransportHeaderSize);
    m.resize(from.seal(m.data(), frame.size(), now));
    return m;
  }
  // Opens a copy of `m`; a delivered frame is copied to last_frame (the verdict points there).
  Verdict open(SecureSession& to, Buffer m) {
    Verdict v = to.receive(m.data(), m.size(), now);
    if (v.action == Action::deliver) {
      last_frame.assign(v.data, v.data + v.size);
      v.data = last_frame.data();
    }
    return v;
  }
  Buffer last_frame;
};

Buffer frame_of(std::size_t n) {
  Buffer f(n);
  for (std::size_t i = 0; i < n; ++i) f[i] = static_cast<std::uint8_t>(i * 13 + 1);
  return f;
}

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
    EXPECT_EQ(Buffer(v.data, v.data + v.size), frame_of(n));
    Verdict back = open(*client, seal(*server, frame_of(n)));
    ASSERT_EQ(back.action, Action::deliver) << back.reason;
    EXPECT_EQ(Buffer(back.data, back.data + back.size), frame_of(n));
  }
  EXPECT_FALSE(client->handshake_due(now));
}

TEST_F(Peers, SealedFrameHidesThePlaintextAndAddsTheDocumentedOverhead) {
  make();
  handshake();
  Buffer f(100, 'M');
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
      bad[i] = static_cast<std::uint8_t>(bad[i] ^ bit);
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
  EXPECT_EQ(server->stats().replayed, 1u);
}

TEST_F(Peers, StreamModeRejectsAnyOlderCounter) {
  auto c = client_config(), s = server_config();
  c.stream = s.stream = true;
  make(c, s, false);
  handshake();
  Buffer first = seal(*client, frame_of(20));
  Buffer second = seal(*client, frame_of(20));
  EXPECT_EQ(open(*server, second).action, Action::deliver);
  EXPECT_EQ(open(*server, first).action, Action::drop);
}

TEST_F(Peers, WrongServerKeyFailsWithoutAReply) {
  auto c = client_config();
  c.peer_public = x25519_public(random_private_key());
  make(c, server_config(), false);
  Buffer init = initiation();
  Verdict v = server->receive(init.data(), init.size(), now);
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_FALSE(v.authenticated);
  EXPECT_EQ(server->stats().handshakes_failed, 1u);
  EXPECT_NE(v.reason.find("wrong server key"), std::string::npos) << v.reason;
}

TEST_F(Peers, ClientNotAllowedIsRefused) {
  auto s = server_config();
  s.allowed = {x25519_public(random_private_key())};
  make(client_config(), s, false);
  Buffer init = initiation();
  Verdict v = server->receive(init.data(), init.size(), now);
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_NE(v.reason.find("not allowed"), std::string::npos);
  EXPECT_EQ(server->stats().handshakes_refused, 1u);
}

TEST_F(Peers, ReplayedInitiationIsRejectedByItsTimestamp) {
  make();
  Buffer init = initiation();
  Buffer copy = init;
  EXPECT_EQ(server->receive(init.data(), init.size(), now).action, Action::reply);
  Verdict v = server->receive(copy.data(), copy.size(), now);
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_NE(v.reason.find("replayed"), std::string::npos);
}

// The field case behind the replay rule is a client whose clock was ahead and has been
// corrected: the line must say so, and how to recover.
TEST_F(Peers, OldTimestampLineExplainsTheClockAndTheWayOut) {
  make();
  Buffer init = initiation();
  Buffer copy = init;
  ASSERT_EQ(server->receive(init.data(), init.size(), now).action, Action::reply);
  Verdict v = server->receive(copy.data(), copy.size(), now);
  ASSERT_EQ(v.action, Action::drop);
  EXPECT_EQ(server->stats().handshakes_refused, 1u);
  for (const char* part :
       {"handshake timestamp went backwards", "clock was stepped back", "replayed initiation",
        "refused until the client's clock passes", "restart the server", " UTC"})
    EXPECT_NE(v.reason.find(part), std::string::npos) << part << " in: " << v.reason;
  EXPECT_NE(v.reason.find(to_base64(x25519_public(client_key))), std::string::npos);
}

TEST(Tai64n, FormatsAsUtc) {
  std::array<std::uint8_t, 12> stamp{0x40, 0, 0, 0, 0x69, 0x2c, 0x53, 0x01, 0, 0, 0, 0};
  EXPECT_EQ(tai64n_to_string(stamp), "2025-11-30 14:21:53 UTC");
}

// A low-order point arriving on the wire is refused (counted, with a reason), never thrown.
TEST_F(Peers, LowOrderEphemeralInAnInitiationIsRefusedNotThrown) {
  make();
  Buffer init = initiation();
  std::fill(init.begin() + 8, init.begin() + 8 + kKeySize, 0);  // e = the zero point
  init[8] = 1;                                                  // e = the point of order 1
  Verdict v;
  EXPECT_NO_THROW(v = server->receive(init.data(), init.size(), now));
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_FALSE(v.authenticated);
  EXPECT_NE(v.reason.find("low-order ephemeral key"), std::string::npos) << v.reason;
  EXPECT_EQ(server->stats().handshakes_failed, 1u);
}

TEST_F(Peers, LowOrderStaticInAnInitiationIsRefusedNotThrown) {
  make();
  HandshakeSettings hs;
  hs.initiator = true;
  hs.static_private = client_key;
  hs.remote_static = x25519_public(server_key);
  hs.prologue = {'t', 'u', 'n', 'd', '/', '1'};
  hs.static_public = Key{};
  (*hs.static_public)[0] = 1;  // claims the point of order 1 as its identity
  Handshake forged(hs);
  Buffer payload(13, 0);
  auto noise = forged.write_message(payload);
  Buffer init{
      static_cast<std::uint8_t>(proto::MessageType::handshake_initiation), 0, 0, 0, 0, 0, 0, 7};
  init.insert(init.end(), noise.begin(), noise.end());
  ASSERT_EQ(init.size(), proto::kInitiationSize);
  Verdict v;
  EXPECT_NO_THROW(v = server->receive(init.data(), init.size(), now));
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_NE(v.reason.find("low-order static key"), std::string::npos) << v.reason;
  EXPECT_EQ(server->stats().handshakes_failed, 1u);
}

TEST_F(Peers, LowOrderEphemeralInAResponseIsRefusedNotThrown) {
  make();
  Buffer init = initiation();
  Verdict r = server->receive(init.data(), init.size(), now);
  ASSERT_EQ(r.action, Action::reply);
  Buffer response(r.data, r.data + r.size);
  std::fill(response.begin() + 12, response.begin() + 12 + kKeySize, 0);
  Verdict v;
  EXPECT_NO_THROW(v = client->receive(response.data(), response.size(), now));
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_FALSE(v.established);
  EXPECT_NE(v.reason.find("low-order ephemeral key"), std::string::npos) << v.reason;
}

TEST_F(Peers, LowOrderConfiguredKeysAreRefusedAtConstruction) {
  auto c = client_config();
  c.peer_public = Key{};
  EXPECT_THROW(SecureSession{c}, KeyError);
  auto s = server_config();
  s.allowed.push_back(Key{});
  EXPECT_THROW(SecureSession{s}, KeyError);
}

// SIGHUP: a newly allowed key gets in, a removed one loses its session and cannot return.
TEST_F(Peers, ReloadedAllowListAppliesToTheNextHandshake) {
  auto s = server_config();
  s.allowed = {x25519_public(random_private_key())};
  make(client_config(), s, false);
  Buffer init = initiation();
  EXPECT_EQ(server->receive(init.data(), init.size(), now).action, Action::drop);
  server->update_peer_keys(std::nullopt, {x25519_public(client_key)}, std::nullopt);
  now += 1s;
  handshake();
  EXPECT_TRUE(server->ready(now));
  server->update_peer_keys(std::nullopt, {x25519_public(random_private_key())}, std::nullopt);
  EXPECT_FALSE(server->ready(now));
  Verdict v = open(*server, seal(*client, frame_of(10)));
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_THROW(server->update_peer_keys(std::nullopt, {Key{}}, std::nullopt), KeyError);
}

TEST_F(Peers, PskMustMatchOnBothSides) {
  auto c = client_config(), s = server_config();
  c.psk = random_private_key();
  s.psk = c.psk;
  make(c, s, false);
  handshake();
  // A different psk: IKpsk2 mixes it in at the end of message 2, so the responder cannot
  // tell yet; the initiator rejects the response and no session comes up on either side.
  s.psk = random_private_key();
  make(c, s, false);
  Buffer init = initiation();
  Verdict r = server->receive(init.data(), init.size(), now);
  ASSERT_EQ(r.action, Action::reply);
  Buffer response(r.data, r.data + r.size);
  Verdict v = client->receive(response.data(), response.size(), now);
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_FALSE(v.established);
  EXPECT_FALSE(client->ready(now));
  EXPECT_EQ(client->stats().handshakes_failed, 1u);
}

TEST_F(Peers, UnencryptedMessagesAreRefused) {
  make();
  handshake();
  for (Buffer plain : {Buffer{1, 0, 0, 0, 0x45, 0, 0, 20},            // plaintext UDP data
                       Buffer{0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 1},  // raw IPv4 (TCP framing)
                       Buffer{0x60, 0, 0, 0, 0, 8, 58, 64}}) {        // raw IPv6
    Verdict v = open(*server, plain);
    EXPECT_EQ(v.action, Action::drop);
    EXPECT_NE(v.reason.find("unencrypted"), std::string::npos) << v.reason;
  }
}

TEST_F(Peers, RekeyKeepsTrafficFlowingAndOldFramesStillOpen) {
  make();
  handshake();
  now += 121s;
  EXPECT_TRUE(client->handshake_due(now));
  Buffer in_flight = seal(*client, frame_of(30));  // sealed under the old keys
  Buffer old_from_server = seal(*server, frame_of(31));
  Buffer init = initiation();
  Verdict r = server->receive(init.data(), init.size(), now);
  ASSERT_EQ(r.action, Action::reply);
  EXPECT_FALSE(r.established) << "the responder keeps the old session until confirmed";
  // The server still sends on the old session meanwhile.
  EXPECT_EQ(open(*client, seal(*server, frame_of(5))).action, Action::deliver);
  Buffer response(r.data, r.data + r.size);
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
  auto c = client_config();
  c.rekey_after_messages = 3;
  make(c, server_config(), false);
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
  // Unanswered initiations are retried with growing delays.
  initiation();
  EXPECT_FALSE(client->handshake_due(now + 500ms));
  EXPECT_TRUE(client->handshake_due(now + 2s));
  now += 2s;
  initiation();
  EXPECT_FALSE(client->handshake_due(now + 1900ms));
  EXPECT_TRUE(client->handshake_due(now + 4s));
}

TEST_F(Peers, GarbageNeverCrashesAndIsCounted) {
  make();
  handshake();
  Buffer junk;
  for (std::size_t size : {0u, 3u, 4u, 16u, 31u, 32u, 61u, 117u, 1500u}) {
    for (std::uint8_t type = 0; type < 8; ++type) {
      junk.assign(size, 0xa5);
      if (size) junk[0] = type;
      if (size > 3) junk[1] = junk[2] = junk[3] = 0;
      Verdict v = open(*server, junk);
      EXPECT_NE(v.action, Action::deliver);
      EXPECT_FALSE(v.authenticated && v.action == Action::deliver);
    }
  }
}

}  // namespace
}  // namespace tund::crypto
