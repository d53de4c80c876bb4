#include <gtest/gtest.h>

#include <vector>

#include "tund/crypto/primitives.hpp"

namespace tund::crypto {
namespace {

// The precomputed key must produce exactly what the one-shot primitive produces (and so
// what the Noise vectors check), and open what it sealed.
TEST(AeadKey, MatchesTheOneShotPrimitiveForBothCiphers) {
  init_sodium();
  for (Aead aead : {Aead::chacha20poly1305, Aead::aes256gcm}) {
    if (aead == Aead::aes256gcm && !aes256gcm_available()) continue;
    Key key = random_private_key();
    AeadKey prepared(aead, key);
    std::vector<std::byte> ad = {std::byte{1}, std::byte{2}, std::byte{3}};
    std::vector<std::byte> pt(1400, std::byte{0x5a});
    std::vector<std::byte> a(pt.size() + kTagSize), b(pt.size() + kTagSize);
    for (std::uint64_t n : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1} << 40}) {
      aead_seal(aead, key, n, ad, pt, a.data());
      prepared.seal(n, ad, pt, b.data());
      EXPECT_EQ(a, b) << "counter " << n;
      std::vector<std::byte> back(pt.size());
      EXPECT_TRUE(prepared.open(n, ad, b, back.data()));
      EXPECT_EQ(back, pt);
      EXPECT_FALSE(prepared.open(n + 1, ad, b, back.data())) << "wrong counter must fail";
    }
  }
}

}  // namespace
}  // namespace tund::crypto
