// How fast this CPU seals tunnel frames with each data cipher, measured once at start-up,
// and the cipher score that the handshake sends (crypto/cipher_choice.hpp).
//
// The measurement seals frames of the tunnel's frame size with AeadKey::seal, the very
// call the data path makes (AES-256-GCM with its precomputed key schedule, ChaCha20-
// Poly1305 IETF), a few rounds of each cipher in turn, and keeps each cipher's fastest
// round: a neighbour stealing the CPU only makes a round slower, never faster. About 1 ms
// in all at 1400 bytes on a CPU with AES-NI. Needs init_sodium() first.
#pragma once

#include <cstddef>
#include <string>

#include "tund/util/clock.hpp"

namespace tund::crypto {

// Score per doubling of the speed ratio: score = round(16 * log2(aes / chacha)), so +16 =
// AES-256-GCM twice as fast, -16 = ChaCha20-Poly1305 twice as fast, one step = 4.4%, and
// 0 for speeds within about 2% of each other (the noise of one measurement). Clamped to
// ±kMaxMeasuredScore (62, a ratio of about 15).
inline constexpr double kScorePerDoubling = 16.0;

struct CipherSpeed {
  double aes_bytes_per_second = 0;     // 0: not measured (the CPU cannot run AES-256-GCM)
  double chacha_bytes_per_second = 0;  // 0: not measured
  int score = 0;                       // score_from_speeds() of the two
};

// The score of two rates (bytes per second); 0 when either is not a positive number.
int score_from_speeds(double aes_bytes_per_second, double chacha_bytes_per_second);

// Measures both ciphers (AES-256-GCM only when `aes_available`) on `frame_size`-byte
// frames, timed by `clock`. Throws what AeadKey throws (std::bad_alloc, std::runtime_error
// from the key arena); never anything for a CPU that lacks AES-NI.
CipherSpeed measure_cipher_speed(std::size_t frame_size, bool aes_available,
                                 const util::Clock& clock);

// The log line's text: "aes-256-gcm 1.52 GB/s, chacha20-poly1305 0.98 GB/s, score 10"
// ("aes-256-gcm not available" in place of a rate not measured). GB = 10^9 bytes.
std::string describe(const CipherSpeed& speed);

}  // namespace tund::crypto
