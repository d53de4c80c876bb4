// Reproduces, byte for byte and in both roles, every handshake and transport message of
// the public cacophony test vectors for Noise_IK and Noise_IKpsk2 with ChaChaPoly (and
// AESGCM where the CPU has it) and BLAKE2b.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "tund/crypto/noise.hpp"

namespace tund::crypto {
namespace {

using ByteVec = std::vector<std::byte>;

ByteVec unhex(const std::string& hex) {
  ByteVec out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::byte>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  return out;
}

Key key_of(const std::string& hex) {
  ByteVec b = unhex(hex);
  Key k{};
  std::copy_n(b.begin(), kKeySize, k.begin());
  return k;
}

// A deliberately small reader for the vector file's flat layout: one object per vector,
// string fields, a "messages" list of {payload, ciphertext} and "*_psks" lists.
struct Vector {
  std::map<std::string, std::string> fields;
  std::vector<std::pair<std::string, std::string>> messages;
};

std::string next_string(const std::string& text, std::size_t& pos) {
  std::size_t a = text.find('"', pos), b = text.find('"', a + 1);
  pos = b + 1;
  return text.substr(a + 1, b - a - 1);
}

std::vector<Vector> load_vectors() {
  std::ifstream in(std::string(TUND_TEST_DATA_DIR) + "/cacophony-ik-blake2b.json");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  std::vector<Vector> out;
  std::size_t pos = 0;
  while ((pos = text.find("\"protocol_name\"", pos)) != std::string::npos) {
    Vector v;
    std::size_t end = text.find("\"protocol_name\"", pos + 1);
    if (end == std::string::npos) end = text.size();
    std::string body = text.substr(pos, end - pos);
    std::size_t p = 0;
    while (true) {
      std::size_t q = body.find('"', p);
      if (q == std::string::npos) break;
      std::string name = next_string(body, p);
      if (name == "messages") {
        while (true) {
          std::size_t pl = body.find("\"payload\"", p);
          if (pl == std::string::npos) break;
          p = pl + 9;
          std::string payload = next_string(body, p);
          std::size_t ct = body.find("\"ciphertext\"", p);
          p = ct + 12;
          v.messages.emplace_back(payload, next_string(body, p));
        }
        break;
      }
      v.fields[name] = next_string(body, p);
    }
    out.push_back(v);
    pos = end;
  }
  return out;
}

void run_vector(const Vector& v, Aead aead, bool psk2) {
  HandshakeSettings init, resp;
  init.initiator = true;
  init.psk2 = resp.psk2 = psk2;
  init.aead = resp.aead = aead;
  init.prologue = unhex(v.fields.at("init_prologue"));
  resp.prologue = unhex(v.fields.at("resp_prologue"));
  init.static_private = key_of(v.fields.at("init_static"));
  init.ephemeral_private = key_of(v.fields.at("init_ephemeral"));
  init.remote_static = key_of(v.fields.at("init_remote_static"));
  resp.initiator = false;
  resp.static_private = key_of(v.fields.at("resp_static"));
  resp.ephemeral_private = key_of(v.fields.at("resp_ephemeral"));
  if (psk2) {
    init.psk = key_of(v.fields.at("init_psks"));
    resp.psk = key_of(v.fields.at("resp_psks"));
  }
  Handshake initiator(init), responder(resp);
  ASSERT_GE(v.messages.size(), 2u);

  // Handshake message 1: initiator writes, responder reads.
  ByteVec m1 = initiator.write_message(unhex(v.messages[0].first));
  EXPECT_EQ(m1, unhex(v.messages[0].second)) << "message 1";
  auto p1 = responder.read_message(m1);
  ASSERT_TRUE(p1);
  EXPECT_EQ(*p1, unhex(v.messages[0].first));
  EXPECT_EQ(responder.remote_static(), x25519_public(init.static_private));

  // Handshake message 2: responder writes, initiator reads.
  ByteVec m2 = responder.write_message(unhex(v.messages[1].first));
  EXPECT_EQ(m2, unhex(v.messages[1].second)) << "message 2";
  auto p2 = initiator.read_message(m2);
  ASSERT_TRUE(p2);
  EXPECT_EQ(*p2, unhex(v.messages[1].first));

  EXPECT_EQ(ByteVec(initiator.handshake_hash().begin(), initiator.handshake_hash().end()),
            unhex(v.fields.at("handshake_hash")));
  EXPECT_EQ(initiator.handshake_hash(), responder.handshake_hash());

  // Transport messages alternate initiator -> responder, responder -> initiator.
  auto [i_send, i_recv] = initiator.split();
  auto [r_recv, r_send] = responder.split();
  for (std::size_t i = 2; i < v.messages.size(); ++i) {
    bool from_initiator = i % 2 == 0;
    CipherState& sender = from_initiator ? i_send : r_send;
    CipherState& receiver = from_initiator ? r_recv : i_recv;
    ByteVec sealed;
    sender.encrypt_with_ad({}, unhex(v.messages[i].first), sealed);
    EXPECT_EQ(sealed, unhex(v.messages[i].second)) << "transport message " << i;
    ByteVec opened;
    ASSERT_TRUE(receiver.decrypt_with_ad({}, sealed, opened)) << "transport message " << i;
    EXPECT_EQ(opened, unhex(v.messages[i].first));
  }
}

class NoiseVectors : public ::testing::Test {
 protected:
  void SetUp() override { init_sodium(); }
  void run(const std::string& name, Aead aead, bool psk2) {
    int found = 0;
    for (const auto& v : load_vectors()) {
      if (v.fields.at("protocol_name") != name) continue;
      ++found;
      SCOPED_TRACE(name);
      run_vector(v, aead, psk2);
    }
    EXPECT_GE(found, 1) << "no vector for " << name;
  }
};

TEST_F(NoiseVectors, IkChaChaPolyBlake2b) {
  run("Noise_IK_25519_ChaChaPoly_BLAKE2b", Aead::chacha20poly1305, false);
}

TEST_F(NoiseVectors, IkPsk2ChaChaPolyBlake2b) {
  run("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b", Aead::chacha20poly1305, true);
}

TEST_F(NoiseVectors, IkAesGcmBlake2b) {
  if (!aes256gcm_available()) GTEST_SKIP() << "no AES-NI on this CPU";
  run("Noise_IK_25519_AESGCM_BLAKE2b", Aead::aes256gcm, false);
}

TEST_F(NoiseVectors, IkPsk2AesGcmBlake2b) {
  if (!aes256gcm_available()) GTEST_SKIP() << "no AES-NI on this CPU";
  run("Noise_IKpsk2_25519_AESGCM_BLAKE2b", Aead::aes256gcm, true);
}

TEST_F(NoiseVectors, TamperedFirstMessageIsRejected) {
  HandshakeSettings init, resp;
  init.static_private = random_private_key();
  resp.initiator = false;
  resp.static_private = random_private_key();
  init.remote_static = x25519_public(resp.static_private);
  Handshake initiator(init);
  ByteVec m1 = initiator.write_message({});
  for (std::size_t i = 0; i < m1.size(); ++i) {
    Handshake responder(resp);
    ByteVec bad = m1;
    bad[i] ^= std::byte{0x01};
    EXPECT_FALSE(responder.read_message(bad)) << "byte " << i;
  }
}

}  // namespace
}  // namespace tund::crypto
