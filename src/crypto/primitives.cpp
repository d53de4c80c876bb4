#include "tund/crypto/primitives.hpp"

#include <sodium.h>

#include <algorithm>
#include <new>
#include <stdexcept>

namespace tund::crypto {
namespace {

void nonce_for(Aead aead, std::uint64_t n, std::uint8_t nonce[12]) {
  for (int i = 0; i < 4; ++i) nonce[i] = 0;
  for (int i = 0; i < 8; ++i) {
    int shift = aead == Aead::chacha20poly1305 ? 8 * i : 8 * (7 - i);
    nonce[4 + i] = static_cast<std::uint8_t>(n >> shift);
  }
}

}  // namespace

void init_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

bool aes256gcm_available() {
  return crypto_aead_aes256gcm_is_available() == 1;
}

Hash blake2b(Bytes a, Bytes b, Bytes c) {
  crypto_generichash_blake2b_state state;
  crypto_generichash_blake2b_init(&state, nullptr, 0, kHashSize);
  crypto_generichash_blake2b_update(&state, a.data(), a.size());
  crypto_generichash_blake2b_update(&state, b.data(), b.size());
  crypto_generichash_blake2b_update(&state, c.data(), c.size());
  Hash out;
  crypto_generichash_blake2b_final(&state, out.data(), out.size());
  return out;
}

Hash hmac_blake2b(Bytes key, Bytes a, Bytes b) {
  std::array<std::uint8_t, kBlockSize> block{};
  if (key.size() > kBlockSize) {
    Hash hashed = blake2b(key);
    std::copy(hashed.begin(), hashed.end(), block.begin());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<std::uint8_t, kBlockSize> ipad, opad;
  for (std::size_t i = 0; i < kBlockSize; ++i) {
    ipad[i] = static_cast<std::uint8_t>(block[i] ^ 0x36);
    opad[i] = static_cast<std::uint8_t>(block[i] ^ 0x5c);
  }
  crypto_generichash_blake2b_state state;
  crypto_generichash_blake2b_init(&state, nullptr, 0, kHashSize);
  crypto_generichash_blake2b_update(&state, ipad.data(), ipad.size());
  crypto_generichash_blake2b_update(&state, a.data(), a.size());
  crypto_generichash_blake2b_update(&state, b.data(), b.size());
  Hash inner;
  crypto_generichash_blake2b_final(&state, inner.data(), inner.size());
  Hash out = blake2b(opad, inner);
  wipe(block.data(), block.size());
  wipe(ipad.data(), ipad.size());
  wipe(opad.data(), opad.size());
  wipe(inner.data(), inner.size());
  return out;
}

void hkdf(const Hash& chaining_key, Bytes ikm, Hash* out1, Hash* out2, Hash* out3) {
  Hash temp = hmac_blake2b(chaining_key, ikm);
  const std::uint8_t one = 1, two = 2, three = 3;
  *out1 = hmac_blake2b(temp, Bytes(&one, 1));
  *out2 = hmac_blake2b(temp, *out1, Bytes(&two, 1));
  if (out3) *out3 = hmac_blake2b(temp, *out2, Bytes(&three, 1));
  wipe(temp.data(), temp.size());
}

Key random_private_key() {
  Key k;
  randombytes_buf(k.data(), k.size());
  return k;
}

Key x25519_public(const Key& private_key) {
  Key pub;
  crypto_scalarmult_base(pub.data(), private_key.data());
  return pub;
}

bool x25519(Key& shared, const Key& private_key, const Key& public_key) {
  return crypto_scalarmult(shared.data(), private_key.data(), public_key.data()) == 0;
}

void aead_seal(Aead aead, const std::uint8_t* key, std::uint64_t n, Bytes ad, Bytes plaintext,
               std::uint8_t* out) {
  std::uint8_t nonce[12];
  nonce_for(aead, n, nonce);
  if (aead == Aead::aes256gcm)
    crypto_aead_aes256gcm_encrypt(out, nullptr, plaintext.data(), plaintext.size(), ad.data(),
                                  ad.size(), nullptr, nonce, key);
  else
    crypto_aead_chacha20poly1305_ietf_encrypt(out, nullptr, plaintext.data(), plaintext.size(),
                                              ad.data(), ad.size(), nullptr, nonce, key);
}

bool aead_open(Aead aead, const std::uint8_t* key, std::uint64_t n, Bytes ad, Bytes sealed,
               std::uint8_t* out) {
  if (sealed.size() < kTagSize) return false;
  std::uint8_t nonce[12];
  nonce_for(aead, n, nonce);
  if (aead == Aead::aes256gcm)
    return crypto_aead_aes256gcm_decrypt(out, nullptr, nullptr, sealed.data(), sealed.size(),
                                         ad.data(), ad.size(), nonce, key) == 0;
  return crypto_aead_chacha20poly1305_ietf_decrypt(out, nullptr, nullptr, sealed.data(),
                                                   sealed.size(), ad.data(), ad.size(), nonce,
                                                   key) == 0;
}

AeadKey::AeadKey(Aead aead, const Key& key) : aead_(aead) {
  std::size_t size = aead == Aead::aes256gcm ? sizeof(crypto_aead_aes256gcm_state) : kKeySize;
  // A multiple of 16 bytes, so sodium_malloc's end-of-page placement keeps the AES state
  // 16-byte aligned as libsodium requires.
  secret_ = sodium_malloc((size + 15) / 16 * 16);
  if (!secret_) throw std::bad_alloc();
  if (aead == Aead::aes256gcm)
    crypto_aead_aes256gcm_beforenm(static_cast<crypto_aead_aes256gcm_state*>(secret_), key.data());
  else
    std::copy(key.begin(), key.end(), static_cast<std::uint8_t*>(secret_));
  sodium_mprotect_readonly(secret_);
}

AeadKey::~AeadKey() {
  sodium_free(secret_);
}  // wipes before releasing

// libsodium takes unsigned char; the data path's bytes are std::byte (same size and
// alignment, and unsigned char may alias anything).
namespace {
const unsigned char* uchar(const std::byte* p) {
  return reinterpret_cast<const unsigned char*>(p);
}
unsigned char* uchar(std::byte* p) {
  return reinterpret_cast<unsigned char*>(p);
}
}  // namespace

void AeadKey::seal(std::uint64_t n, util::ConstByteSpan ad, util::ConstByteSpan plaintext,
                   std::byte* out) const {
  std::uint8_t nonce[12];
  nonce_for(aead_, n, nonce);
  if (aead_ == Aead::chacha20poly1305)
    crypto_aead_chacha20poly1305_ietf_encrypt(
        uchar(out), nullptr, uchar(plaintext.data()), plaintext.size(), uchar(ad.data()), ad.size(),
        nullptr, nonce, static_cast<const unsigned char*>(secret_));
  else
    crypto_aead_aes256gcm_encrypt_afternm(
        uchar(out), nullptr, uchar(plaintext.data()), plaintext.size(), uchar(ad.data()), ad.size(),
        nullptr, nonce, static_cast<const crypto_aead_aes256gcm_state*>(secret_));
}

bool AeadKey::open(std::uint64_t n, util::ConstByteSpan ad, util::ConstByteSpan sealed,
                   std::byte* out) const {
  if (sealed.size() < kTagSize) return false;
  std::uint8_t nonce[12];
  nonce_for(aead_, n, nonce);
  if (aead_ == Aead::chacha20poly1305)
    return crypto_aead_chacha20poly1305_ietf_decrypt(
               uchar(out), nullptr, nullptr, uchar(sealed.data()), sealed.size(), uchar(ad.data()),
               ad.size(), nonce, static_cast<const unsigned char*>(secret_)) == 0;
  return crypto_aead_aes256gcm_decrypt_afternm(
             uchar(out), nullptr, nullptr, uchar(sealed.data()), sealed.size(), uchar(ad.data()),
             ad.size(), nonce, static_cast<const crypto_aead_aes256gcm_state*>(secret_)) == 0;
}

void wipe(void* data, std::size_t size) {
  sodium_memzero(data, size);
}

}  // namespace tund::crypto
