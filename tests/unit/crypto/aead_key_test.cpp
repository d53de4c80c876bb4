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
    std::vector<std::uint8_t> ad = {1, 2, 3}, pt(1400, 0x5a);
    std::vector<std::uint8_t> a(pt.size() + kTagSize);
    std::vector<std::byte> b(pt.size() + kTagSize);
    auto as_std_bytes = [](const std::vector<std::uint8_t>& v) {
      std::vector<std::byte> out;
      for (std::uint8_t x : v) out.push_back(std::byte{x});
      return out;
    };
    std::vector<std::byte> ad_b = as_std_bytes(ad), pt_b = as_std_bytes(pt);
    for (std::uint64_t n : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1} << 40}) {
      aead_seal(aead, key.data(), n, ad, pt, a.data());
      prepared.seal(n, ad_b, pt_b, b.data());
      EXPECT_EQ(as_std_bytes(a), b) << "counter " << n;
      std::vector<std::byte> back(pt.size());
      EXPECT_TRUE(prepared.open(n, ad_b, b, back.data()));
      EXPECT_EQ(back, pt_b);
      EXPECT_FALSE(prepared.open(n + 1, ad_b, b, back.data())) << "wrong counter must fail";
    }
  }
}

}  // namespace
}  // namespace tund::crypto
