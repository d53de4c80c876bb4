#include "tund/crypto/cipher_choice.hpp"

#include <algorithm>

namespace tund::crypto {
namespace {

constexpr unsigned kAesBit = 0x01;
constexpr unsigned kScoreShift = 1;
constexpr unsigned kScoreMask = 0x7f;  // 7 bits behind the AES bit
constexpr int kScoreModulus = 128;     // 2^7: a raw value of 64 or more is negative

int clamp_score(int score, int limit) {
  return std::clamp(score, -limit, limit);
}

int sign(int n) {
  return (n > 0) - (n < 0);
}

}  // namespace

std::byte encode_offer(CipherOffer offer) {
  int score = clamp_score(offer.score, kMaxCipherScore);
  auto raw = static_cast<unsigned>(score < 0 ? score + kScoreModulus : score);
  return static_cast<std::byte>(((raw & kScoreMask) << kScoreShift) | (offer.aes ? kAesBit : 0u));
}

CipherOffer decode_offer(std::byte flags) {
  auto bits = std::to_integer<unsigned>(flags);
  auto raw = static_cast<int>((bits >> kScoreShift) & kScoreMask);
  int score = raw >= kScoreModulus / 2 ? raw - kScoreModulus : raw;
  return {(bits & kAesBit) != 0, clamp_score(score, kMaxCipherScore)};
}

Aead choose_cipher(CipherOffer initiator, CipherOffer responder) {
  if (!initiator.aes || !responder.aes) return Aead::chacha20poly1305;
  int own = clamp_score(responder.score, kMaxCipherScore);
  int sum = clamp_score(initiator.score, kMaxCipherScore) + own;
  // On a tie the responder decides by its own measurement; with no opinion anywhere, AES
  // (the choice before scores existed, so older ends keep it).
  int verdict = sum != 0 ? sign(sum) : sign(own);
  return verdict >= 0 ? Aead::aes256gcm : Aead::chacha20poly1305;
}

std::variant<CipherOffer, std::string> make_offer(CipherPreference preference, bool aes_available,
                                                  int measured_score) {
  switch (preference) {
    case CipherPreference::aes256gcm:
      if (!aes_available)
        return std::string(
            "--cipher aes-256-gcm: this CPU cannot run AES-256-GCM (no AES-NI/PCLMUL); use "
            "--cipher auto or chacha20-poly1305");
      return CipherOffer{true, kMaxCipherScore};
    case CipherPreference::chacha20poly1305:
      return CipherOffer{false, -kMaxCipherScore};
    case CipherPreference::automatic:
      break;
  }
  if (!aes_available) return CipherOffer{false, 0};
  return CipherOffer{true, clamp_score(measured_score, kMaxMeasuredScore)};
}

const char* preference_name(CipherPreference preference) {
  switch (preference) {
    case CipherPreference::aes256gcm:
      return "aes-256-gcm";
    case CipherPreference::chacha20poly1305:
      return "chacha20-poly1305";
    case CipherPreference::automatic:
      break;
  }
  return "auto";
}

}  // namespace tund::crypto
