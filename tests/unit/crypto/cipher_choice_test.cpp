// The cipher choice (crypto/cipher_choice.hpp): the flags byte of the initiation, the
// responder's rule in every case (availability, sum, tie, clamping, older peers), the
// offers --cipher makes (with the CPU's AES capability injected), and whole handshakes
// that end on the cipher the rule names, on both ends.
#include "tund/crypto/cipher_choice.hpp"

#include <gtest/gtest.h>

#include "crypto_peers.hpp"

namespace tund::crypto::testing {
namespace {

constexpr Aead kAes = Aead::aes256gcm;
constexpr Aead kChacha = Aead::chacha20poly1305;

CipherOffer aes(int score) {
  return {true, score};
}

// ---- the flags byte ----------------------------------------------------------------------

TEST(CipherOfferByte, OlderPeersBytesMeanScoreZero) {
  // Every tund before scores sent exactly 0 (no AES) or 1 (AES) here.
  EXPECT_EQ(decode_offer(std::byte{0x00}), (CipherOffer{false, 0}));
  EXPECT_EQ(decode_offer(std::byte{0x01}), (CipherOffer{true, 0}));
  EXPECT_EQ(encode_offer({false, 0}), std::byte{0x00});
  EXPECT_EQ(encode_offer({true, 0}), std::byte{0x01});
}

TEST(CipherOfferByte, ScoreIsSignedSevenBitsAboveTheAesBit) {
  EXPECT_EQ(encode_offer(aes(1)), std::byte{0x03});
  EXPECT_EQ(encode_offer({false, -1}), std::byte{0xfe});
  EXPECT_EQ(encode_offer(aes(63)), std::byte{0x7f});
  EXPECT_EQ(encode_offer(aes(-63)), std::byte{0x83});
  EXPECT_EQ(decode_offer(std::byte{0x7f}), aes(63));
  EXPECT_EQ(decode_offer(std::byte{0x83}), aes(-63));
}

TEST(CipherOfferByte, EveryOfferSurvivesTheRoundTrip) {
  for (bool can : {false, true})
    for (int score = -kMaxCipherScore; score <= kMaxCipherScore; ++score)
      EXPECT_EQ(decode_offer(encode_offer({can, score})), (CipherOffer{can, score}));
}

TEST(CipherOfferByte, ScoresBeyondTheRangeAreClamped) {
  EXPECT_EQ(decode_offer(encode_offer(aes(64))), aes(63));
  EXPECT_EQ(decode_offer(encode_offer(aes(1000))), aes(63));
  EXPECT_EQ(decode_offer(encode_offer(aes(-64))), aes(-63));
  EXPECT_EQ(decode_offer(encode_offer(aes(-1000))), aes(-63));
  // -64 is a 7-bit value nobody sends: read as -63, not refused.
  EXPECT_EQ(decode_offer(std::byte{0x81}), aes(-63));
}

TEST(CipherOfferByte, BitZeroIsTheAesCapabilityWhateverTheScore) {
  // What an older responder reads (bit 0 alone): the capability, never the score.
  for (int score = -kMaxCipherScore; score <= kMaxCipherScore; ++score) {
    EXPECT_EQ(encode_offer({true, score}) & std::byte{1}, std::byte{1}) << score;
    EXPECT_EQ(encode_offer({false, score}) & std::byte{1}, std::byte{0}) << score;
  }
}

// ---- the rule ----------------------------------------------------------------------------

TEST(ChooseCipher, ChachaWhenEitherEndLacksAes) {
  for (int a : {-63, 0, 63})
    for (int b : {-63, 0, 63}) {
      EXPECT_EQ(choose_cipher({false, a}, aes(b)), kChacha);
      EXPECT_EQ(choose_cipher(aes(a), {false, b}), kChacha);
      EXPECT_EQ(choose_cipher({false, a}, {false, b}), kChacha);
    }
}

TEST(ChooseCipher, TheSumOfTheScoresDecides) {
  EXPECT_EQ(choose_cipher(aes(10), aes(5)), kAes);
  EXPECT_EQ(choose_cipher(aes(-10), aes(-5)), kChacha);
  EXPECT_EQ(choose_cipher(aes(10), aes(-5)), kAes) << "the initiator's stronger preference";
  EXPECT_EQ(choose_cipher(aes(-10), aes(5)), kChacha) << "the initiator's stronger preference";
  EXPECT_EQ(choose_cipher(aes(5), aes(-10)), kChacha) << "the responder's stronger preference";
  EXPECT_EQ(choose_cipher(aes(-5), aes(10)), kAes) << "the responder's stronger preference";
  EXPECT_EQ(choose_cipher(aes(1), aes(0)), kAes);
  EXPECT_EQ(choose_cipher(aes(-1), aes(0)), kChacha);
}

TEST(ChooseCipher, ATieGoesToTheRespondersSignThenToAes) {
  EXPECT_EQ(choose_cipher(aes(-7), aes(7)), kAes);
  EXPECT_EQ(choose_cipher(aes(7), aes(-7)), kChacha);
  EXPECT_EQ(choose_cipher(aes(-63), aes(63)), kAes) << "two forced ends: the responder's";
  EXPECT_EQ(choose_cipher(aes(63), aes(-63)), kChacha) << "two forced ends: the responder's";
  EXPECT_EQ(choose_cipher(aes(0), aes(0)), kAes) << "no preference: AES, as before scores";
}

TEST(ChooseCipher, OutOfRangeScoresCountAsTheLimit) {
  EXPECT_EQ(choose_cipher(aes(-1000), aes(63)), kAes) << "-1000 is -63: a tie, the responder's";
  EXPECT_EQ(choose_cipher(aes(1000), aes(-63)), kChacha);
  EXPECT_EQ(choose_cipher(aes(100), aes(-100)), kChacha) << "both clamped: a tie";
  EXPECT_EQ(choose_cipher(aes(-1), aes(500)), kAes);
}

TEST(ChooseCipher, OlderPeersWithScoreZero) {
  // Older initiator (score 0) to a newer responder: the responder's measurement decides.
  EXPECT_EQ(choose_cipher(aes(0), aes(12)), kAes);
  EXPECT_EQ(choose_cipher(aes(0), aes(-12)), kChacha);
  // Two older ends, or ends that measured no difference: AES, today's choice.
  EXPECT_EQ(choose_cipher(aes(0), aes(0)), kAes);
  EXPECT_EQ(choose_cipher({false, 0}, aes(0)), kChacha);
}

TEST(ChooseCipher, EveryPairHasOneAnswerAndSwappingRolesAgreesUnlessTied) {
  for (int a = -kMaxCipherScore; a <= kMaxCipherScore; ++a)
    for (int b = -kMaxCipherScore; b <= kMaxCipherScore; ++b) {
      Aead here = choose_cipher(aes(a), aes(b));
      EXPECT_EQ(here, choose_cipher(aes(a), aes(b))) << "deterministic";
      // Roles matter only on a tie, where the responder's sign decides.
      if (a + b != 0) {
        EXPECT_EQ(here, choose_cipher(aes(b), aes(a))) << a << " " << b;
      }
      EXPECT_EQ(here, a + b > 0 || (a + b == 0 && b >= 0) ? kAes : kChacha) << a << " " << b;
    }
}

// ---- what --cipher offers ----------------------------------------------------------------

CipherOffer offer_of(CipherPreference p, bool aes_available, int measured = 0) {
  auto offer = make_offer(p, aes_available, measured);
  if (auto* error = std::get_if<std::string>(&offer)) ADD_FAILURE() << *error;
  return std::holds_alternative<CipherOffer>(offer) ? std::get<CipherOffer>(offer) : CipherOffer{};
}

TEST(MakeOffer, AutoOffersTheMeasuredScoreShortOfAForcedOne) {
  EXPECT_EQ(offer_of(CipherPreference::automatic, true, 12), aes(12));
  EXPECT_EQ(offer_of(CipherPreference::automatic, true, -30), aes(-30));
  EXPECT_EQ(offer_of(CipherPreference::automatic, true, 63), aes(62));
  EXPECT_EQ(offer_of(CipherPreference::automatic, true, -500), aes(-62));
  EXPECT_EQ(offer_of(CipherPreference::automatic, false, 12), (CipherOffer{false, 0}));
}

TEST(MakeOffer, ForcedCiphersSendTheExtremeScore) {
  EXPECT_EQ(offer_of(CipherPreference::aes256gcm, true, -20), aes(63));
  EXPECT_EQ(offer_of(CipherPreference::chacha20poly1305, true, 20), (CipherOffer{false, -63}));
  EXPECT_EQ(offer_of(CipherPreference::chacha20poly1305, false), (CipherOffer{false, -63}));
}

TEST(MakeOffer, ForcedAesWithoutAesNiIsAnError) {
  auto offer = make_offer(CipherPreference::aes256gcm, false, 0);
  ASSERT_TRUE(std::holds_alternative<std::string>(offer));
  const std::string& error = std::get<std::string>(offer);
  EXPECT_EQ(error.rfind("--cipher aes-256-gcm: ", 0), 0u) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << "one line";
}

TEST(MakeOffer, AForcedEndOutweighsAMeasuringOneInEitherRole) {
  CipherOffer forced_aes = offer_of(CipherPreference::aes256gcm, true);
  CipherOffer forced_chacha = offer_of(CipherPreference::chacha20poly1305, true);
  for (int measured : {-1000, -62, -1, 0, 1, 62, 1000}) {
    CipherOffer automatic = offer_of(CipherPreference::automatic, true, measured);
    EXPECT_EQ(choose_cipher(forced_aes, automatic), kAes) << measured;
    EXPECT_EQ(choose_cipher(automatic, forced_aes), kAes) << measured;
    EXPECT_EQ(choose_cipher(forced_chacha, automatic), kChacha) << measured;
    EXPECT_EQ(choose_cipher(automatic, forced_chacha), kChacha) << measured;
  }
  // Forced against forced: ChaCha20-Poly1305 (its end offers no AES), in either role.
  EXPECT_EQ(choose_cipher(forced_aes, forced_chacha), kChacha);
  EXPECT_EQ(choose_cipher(forced_chacha, forced_aes), kChacha);
  EXPECT_EQ(choose_cipher(forced_aes, forced_aes), kAes);
}

TEST(MakeOffer, NamesAreTheOptionsSpellings) {
  EXPECT_STREQ(preference_name(CipherPreference::automatic), "auto");
  EXPECT_STREQ(preference_name(CipherPreference::aes256gcm), "aes-256-gcm");
  EXPECT_STREQ(preference_name(CipherPreference::chacha20poly1305), "chacha20-poly1305");
}

// ---- whole handshakes --------------------------------------------------------------------

class CipherHandshake : public CryptoPeers {
 protected:
  // A handshake between a client offering `c` and a server offering `s`; both ends' cipher.
  void shake(CipherOffer c, CipherOffer s) {
    auto ci = client_identity(), si = server_identity();
    ci.offer_aes = c.aes;
    ci.cipher_score = c.score;
    si.offer_aes = s.aes;
    si.cipher_score = s.score;
    make(ci, client_session(), si, server_session());
    handshake();
  }
  void expect_both(const char* name) {
    EXPECT_STREQ(client->cipher_name(), name);
    EXPECT_STREQ(server->cipher_name(), name);
    EXPECT_EQ(open(*server, seal(*client, frame_of(200))).action, Action::deliver);
    EXPECT_EQ(open(*client, seal(*server, frame_of(200))).action, Action::deliver);
  }
};

TEST_F(CipherHandshake, BothEndsUseWhatTheRuleNames) {
  if (!aes256gcm_available()) GTEST_SKIP() << "no AES-NI on this CPU";
  shake(aes(-20), aes(10));
  expect_both("ChaCha20-Poly1305");
  shake(aes(20), aes(-10));
  expect_both("AES-256-GCM");
  shake(aes(0), aes(-3));  // an older client: the server's measurement decides
  expect_both("ChaCha20-Poly1305");
  shake(aes(0), aes(0));  // two ends as before scores
  expect_both("AES-256-GCM");
  shake(aes(63), aes(-63));  // two forced ends that disagree: the responder's
  expect_both("ChaCha20-Poly1305");
}

TEST_F(CipherHandshake, AForcedChachaEndOffersNoAes) {
  CipherOffer forced = offer_of(CipherPreference::chacha20poly1305, true);
  shake(forced, aes(63));
  expect_both("ChaCha20-Poly1305");
  shake(aes(63), forced);
  expect_both("ChaCha20-Poly1305");
}

TEST_F(CipherHandshake, TheResponseStillCarriesZeroOrOneForOlderInitiators) {
  if (!aes256gcm_available()) GTEST_SKIP() << "no AES-NI on this CPU";
  // The initiator's check on the response's byte (the same in older tunds) refuses
  // anything but 0 and 1: a completed handshake shows the byte is one of them.
  shake(aes(0), aes(40));
  expect_both("AES-256-GCM");
  shake(aes(0), aes(-40));
  expect_both("ChaCha20-Poly1305");
}

TEST_F(CipherHandshake, AnInitiatorRefusesAesItDidNotOffer) {
  if (!aes256gcm_available()) GTEST_SKIP() << "no AES-NI on this CPU";
  auto si = server_identity();
  si.offer_aes = true;
  make(client_identity(), client_session(), si, server_session());  // client: no AES
  auto result = server_id->consume_initiation(initiation(), now);
  ASSERT_TRUE(std::holds_alternative<Initiation>(result));
  Initiation init = std::move(std::get<Initiation>(result));
  EXPECT_EQ(init.aead, kChacha);
  init.aead = kAes;  // a responder that ignores the offer
  Verdict r = server->respond(std::move(init), now);
  ASSERT_EQ(r.action, Action::reply) << r.reason;
  Buffer response = as_buffer(r);
  Verdict v = client->receive(response.data(), response.size(), now);
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_EQ(v.reason, "server chose AES-256-GCM, which this side did not offer");
  EXPECT_STREQ(client->cipher_name(), "none");
}

}  // namespace
}  // namespace tund::crypto::testing
