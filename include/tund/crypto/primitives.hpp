// The cryptographic building blocks, exactly as the Noise specification (rev 34) defines
// them for 25519 / ChaChaPoly / AESGCM / BLAKE2b, on libsodium. This module is the only
// one that includes sodium.h.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tund/util/bytes.hpp"

namespace tund::crypto {

inline constexpr std::size_t kKeySize = 32;     // X25519 keys, AEAD keys, PSKs
inline constexpr std::size_t kHashSize = 64;    // BLAKE2b-512 (Noise HASHLEN)
inline constexpr std::size_t kBlockSize = 128;  // BLAKE2b block (Noise BLOCKLEN, for HMAC)
inline constexpr std::size_t kTagSize = 16;     // Poly1305 / GCM tag

// tund's one byte type (util/bytes.hpp); only primitives.cpp and keys.cpp convert to
// libsodium's unsigned char.
using Bytes = util::ConstByteSpan;
using MutableBytes = util::ByteSpan;
using Key = std::array<std::byte, kKeySize>;
using Hash = std::array<std::byte, kHashSize>;

enum class Aead : std::uint8_t { chacha20poly1305 = 0, aes256gcm = 1 };

// Initialises libsodium once; throws std::runtime_error if it cannot.
void init_sodium();
bool aes256gcm_available();

// HASH(a || b || c)
Hash blake2b(Bytes a, Bytes b = {}, Bytes c = {});
// HMAC-HASH(key, a || b), RFC 2104 with BLAKE2b and a 128-byte block (not BLAKE2b's keyed mode).
Hash hmac_blake2b(Bytes key, Bytes a, Bytes b = {});
// HKDF(chaining_key, input_key_material, n) with n = 2 or 3 (out3 may be null).
void hkdf(const Hash& chaining_key, Bytes ikm, Hash* out1, Hash* out2, Hash* out3);

Key random_private_key();
Key x25519_public(const Key& private_key);
// DH(private, public); false when the result is all zeros (a low-order public key).
bool x25519(Key& shared, const Key& private_key, const Key& public_key);

// AEAD with the Noise nonce for counter n (ChaChaPoly: 4 zero bytes + little-endian n;
// AESGCM: 4 zero bytes + big-endian n). `out` receives ciphertext || tag and may alias
// `plaintext` exactly (in-place sealing).
void aead_seal(Aead aead, const Key& key, std::uint64_t n, Bytes ad, Bytes plaintext,
               std::byte* out);
// Opens ciphertext || tag into `out` (may alias the ciphertext); false if forged.
bool aead_open(Aead aead, const Key& key, std::uint64_t n, Bytes ad, Bytes sealed, std::byte* out);

// One direction's data key, ready for many messages: the AES key schedule and GHASH key
// are expanded once (libsodium's precomputation interface) instead of per frame. Lives in
// a slot of the key arena (src/crypto/key_arena.hpp: shared sodium_malloc'd chunks with
// guard pages, mlocked, read-only after setup, the slot wiped on destruction).
class AeadKey {
 public:
  AeadKey(Aead aead, const Key& key);
  ~AeadKey();
  AeadKey(const AeadKey&) = delete;
  AeadKey& operator=(const AeadKey&) = delete;

  Aead aead() const { return aead_; }
  // As aead_seal / aead_open.
  void seal(std::uint64_t n, Bytes ad, Bytes plaintext, std::byte* out) const;
  bool open(std::uint64_t n, Bytes ad, Bytes sealed, std::byte* out) const;

 private:
  Aead aead_;
  const void* secret_;  // chacha: the 32-byte key; aes: crypto_aead_aes256gcm_state
};

// Wipes memory in a way the compiler cannot optimise away.
void wipe(void* data, std::size_t size);

}  // namespace tund::crypto
