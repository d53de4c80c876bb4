#include "tund/crypto/primitives.hpp"

#include <sodium.h>

#include <algorithm>
#include <new>
#include <stdexcept>

#include "sodium_bytes.hpp"
#include "tund/crypto/key_arena.hpp"

namespace tund::crypto {
namespace {

using Nonce = std::array<unsigned char, 12>;

// The Noise nonce for counter n: 4 zero bytes, then n little-endian (ChaChaPoly) or
// big-endian (AESGCM).
Nonce nonce_for(Aead aead, std::uint64_t n) {
  Nonce nonce{};
  for (int i = 0; i < 8; ++i) {
    int shift = aead == Aead::chacha20poly1305 ? 8 * i : 8 * (7 - i);
    nonce[static_cast<std::size_t>(4 + i)] = static_cast<unsigned char>(n >> shift);
  }
  return nonce;
}

void chacha_seal(const unsigned char* key, std::uint64_t n, Bytes ad, Bytes plaintext,
                 std::byte* out) {
  Nonce nonce = nonce_for(Aead::chacha20poly1305, n);
  crypto_aead_chacha20poly1305_ietf_encrypt(uc(out), nullptr, uc(plaintext.data()),
                                            plaintext.size(), uc(ad.data()), ad.size(), nullptr,
                                            nonce.data(), key);
}

bool chacha_open(const unsigned char* key, std::uint64_t n, Bytes ad, Bytes sealed,
                 std::byte* out) {
  if (sealed.size() < kTagSize) return false;
  Nonce nonce = nonce_for(Aead::chacha20poly1305, n);
  return crypto_aead_chacha20poly1305_ietf_decrypt(uc(out), nullptr, nullptr, uc(sealed.data()),
                                                   sealed.size(), uc(ad.data()), ad.size(),
                                                   nonce.data(), key) == 0;
}

void blake2b_update(crypto_generichash_blake2b_state& state, Bytes data) {
  crypto_generichash_blake2b_update(&state, uc(data.data()), data.size());
}

Hash blake2b_final(crypto_generichash_blake2b_state& state) {
  Hash out;
  crypto_generichash_blake2b_final(&state, uc(out.data()), out.size());
  return out;
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
  for (Bytes part : {a, b, c}) blake2b_update(state, part);
  return blake2b_final(state);
}

Hash hmac_blake2b(Bytes key, Bytes a, Bytes b) {
  std::array<std::byte, kBlockSize> block{};
  if (key.size() > kBlockSize) {
    Hash hashed = blake2b(key);
    std::copy(hashed.begin(), hashed.end(), block.begin());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<std::byte, kBlockSize> ipad, opad;
  for (std::size_t i = 0; i < kBlockSize; ++i) {
    ipad[i] = block[i] ^ std::byte{0x36};
    opad[i] = block[i] ^ std::byte{0x5c};
  }
  crypto_generichash_blake2b_state state;
  crypto_generichash_blake2b_init(&state, nullptr, 0, kHashSize);
  for (Bytes part : {Bytes(ipad), a, b}) blake2b_update(state, part);
  Hash inner = blake2b_final(state);
  Hash out = blake2b(opad, inner);
  wipe(block.data(), block.size());
  wipe(ipad.data(), ipad.size());
  wipe(opad.data(), opad.size());
  wipe(inner.data(), inner.size());
  return out;
}

void hkdf(const Hash& chaining_key, Bytes ikm, Hash* out1, Hash* out2, Hash* out3) {
  Hash temp = hmac_blake2b(chaining_key, ikm);
  const std::byte one{1}, two{2}, three{3};
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
  crypto_scalarmult_base(uc(pub.data()), uc(private_key.data()));
  return pub;
}

bool x25519(Key& shared, const Key& private_key, const Key& public_key) {
  return crypto_scalarmult(uc(shared.data()), uc(private_key.data()), uc(public_key.data())) == 0;
}

void aead_seal(Aead aead, const Key& key, std::uint64_t n, Bytes ad, Bytes plaintext,
               std::byte* out) {
  if (aead == Aead::chacha20poly1305) return chacha_seal(uc(key.data()), n, ad, plaintext, out);
  Nonce nonce = nonce_for(aead, n);
  crypto_aead_aes256gcm_encrypt(uc(out), nullptr, uc(plaintext.data()), plaintext.size(),
                                uc(ad.data()), ad.size(), nullptr, nonce.data(), uc(key.data()));
}

bool aead_open(Aead aead, const Key& key, std::uint64_t n, Bytes ad, Bytes sealed, std::byte* out) {
  if (aead == Aead::chacha20poly1305) return chacha_open(uc(key.data()), n, ad, sealed, out);
  if (sealed.size() < kTagSize) return false;
  Nonce nonce = nonce_for(aead, n);
  return crypto_aead_aes256gcm_decrypt(uc(out), nullptr, nullptr, uc(sealed.data()), sealed.size(),
                                       uc(ad.data()), ad.size(), nonce.data(), uc(key.data())) == 0;
}

AeadKey::AeadKey(Aead aead, const Key& key) : aead_(aead) {
  if (aead == Aead::chacha20poly1305) {
    secret_ = chacha_key_arena().store(key.data());
    return;
  }
  // Expanded on the stack (aligned as libsodium requires), copied into the arena, wiped.
  crypto_aead_aes256gcm_state state;
  crypto_aead_aes256gcm_beforenm(&state, uc(key.data()));
  try {
    secret_ = aes_key_arena().store(&state);
  } catch (...) {
    sodium_memzero(&state, sizeof state);
    throw;
  }
  sodium_memzero(&state, sizeof state);
}

AeadKey::~AeadKey() {
  (aead_ == Aead::aes256gcm ? aes_key_arena() : chacha_key_arena()).release(secret_);
}  // wipes before releasing

void AeadKey::seal(std::uint64_t n, Bytes ad, Bytes plaintext, std::byte* out) const {
  if (aead_ == Aead::chacha20poly1305)
    return chacha_seal(static_cast<const unsigned char*>(secret_), n, ad, plaintext, out);
  Nonce nonce = nonce_for(aead_, n);
  crypto_aead_aes256gcm_encrypt_afternm(uc(out), nullptr, uc(plaintext.data()), plaintext.size(),
                                        uc(ad.data()), ad.size(), nullptr, nonce.data(),
                                        static_cast<const crypto_aead_aes256gcm_state*>(secret_));
}

bool AeadKey::open(std::uint64_t n, Bytes ad, Bytes sealed, std::byte* out) const {
  if (aead_ == Aead::chacha20poly1305)
    return chacha_open(static_cast<const unsigned char*>(secret_), n, ad, sealed, out);
  if (sealed.size() < kTagSize) return false;
  Nonce nonce = nonce_for(aead_, n);
  return crypto_aead_aes256gcm_decrypt_afternm(
             uc(out), nullptr, nullptr, uc(sealed.data()), sealed.size(), uc(ad.data()), ad.size(),
             nonce.data(), static_cast<const crypto_aead_aes256gcm_state*>(secret_)) == 0;
}

void wipe(void* data, std::size_t size) {
  sodium_memzero(data, size);
}

}  // namespace tund::crypto
