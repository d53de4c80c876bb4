// Which data cipher a handshake picks, AES-256-GCM or ChaCha20-Poly1305: by speed, not
// only by availability (docs/PROTOCOL.md §1, §2.1).
//
// Each end offers, in the flags byte of the initiation payload (the initiator) or in its
// own configuration (the responder):
//   bit 0      "I can run AES-256-GCM" (libsodium's crypto_aead_aes256gcm_is_available():
//              AES-NI and PCLMUL), as in every tund since encryption was added;
//   bits 1-7   a signed 7-bit "cipher score", two's complement, clamped to ±63: how much
//              faster AES-256-GCM is than ChaCha20-Poly1305 on this end (positive = AES
//              faster; crypto/cipher_speed.hpp measures it). Older tunds send 0 there and
//              ignore it when they receive it.
// The responder applies choose_cipher() and sends its choice in the (authenticated)
// response, as before, so both ends use the one cipher the responder named. Pure: no I/O,
// no libsodium.
#pragma once

#include <cstddef>
#include <string>
#include <variant>

#include "tund/crypto/primitives.hpp"

namespace tund::crypto {

// The score range on the wire; a forced choice (--cipher) sends the extreme.
inline constexpr int kMaxCipherScore = 63;
// A measured score stops one short, so an end that forces a cipher always outweighs one
// that only measured (auto), whichever role each has.
inline constexpr int kMaxMeasuredScore = kMaxCipherScore - 1;

// What one end says about the two ciphers.
struct CipherOffer {
  bool aes = false;  // bit 0: can run AES-256-GCM
  int score = 0;     // bits 1-7: > 0 AES faster here, < 0 ChaCha faster, 0 no preference
  friend bool operator==(const CipherOffer&, const CipherOffer&) = default;
};

// The flags byte and back. encode clamps the score to ±kMaxCipherScore; decode reads any
// byte (bits 1-7 as a signed 7-bit number, -64 clamped to -63), so no value is refused.
std::byte encode_offer(CipherOffer offer);
CipherOffer decode_offer(std::byte flags);

// The rule, run by the responder:
//   either end lacks AES-256-GCM            -> ChaCha20-Poly1305;
//   else the sum of the two clamped scores  -> > 0 AES-256-GCM, < 0 ChaCha20-Poly1305;
//   a tie (sum 0): the responder's own sign  -> > 0 AES, < 0 ChaCha;
//   and if that is 0 too                    -> AES-256-GCM (what tund chose before scores,
//                                              so two older ends keep AES).
Aead choose_cipher(CipherOffer initiator, CipherOffer responder);

// --cipher: auto (measure) or one cipher forced.
enum class CipherPreference { automatic, aes256gcm, chacha20poly1305 };

// This end's offer from its preference, its CPU (`aes_available`, injectable for tests)
// and its measured score (used by `automatic` only; clamped to ±kMaxMeasuredScore):
//   automatic          {aes_available, aes_available ? measured : 0}
//   aes256gcm          {true, +63}; an error string when !aes_available
//   chacha20poly1305   {false, -63}: bit 0 cleared, so that every peer, an older one too,
//                      picks ChaCha20-Poly1305 whichever end is the responder.
// The error is one line naming --cipher, for the caller to report as a config error.
std::variant<CipherOffer, std::string> make_offer(CipherPreference preference, bool aes_available,
                                                  int measured_score);

// "aes-256-gcm", "chacha20-poly1305" (the --cipher spellings), "auto".
const char* preference_name(CipherPreference preference);

}  // namespace tund::crypto
