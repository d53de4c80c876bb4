#include "tund/crypto/cipher_speed.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <vector>

#include "tund/crypto/cipher_choice.hpp"
#include "tund/crypto/primitives.hpp"
#include "tund/proto/wire.hpp"

namespace tund::crypto {
namespace {

// 6 rounds of 24 frames per cipher: ~150 1400-byte seals of each, about 0.2 ms of AES and
// 0.3 ms of ChaCha here, 1 ms with the untimed warm-up round and on slower CPUs; enough
// rounds that one of them runs undisturbed on a busy machine.
constexpr int kRounds = 6;
constexpr int kFramesPerRound = 24;

// One cipher under test: its key (a throwaway random one) and a message buffer laid out
// as the data path's (16-byte header as associated data, frame, tag), sealed in place.
struct Bench {
  Bench(Aead aead, std::size_t size)
      : key(aead, random_private_key()),
        message(proto::kTransportOverhead + size, std::byte{0x5a}),
        frame_size(size) {}

  void seal_round() {
    std::byte* frame = message.data() + proto::kTransportHeaderSize;
    for (int i = 0; i < kFramesPerRound; ++i)
      key.seal(counter++, {message.data(), proto::kTransportHeaderSize}, {frame, frame_size},
               frame);
  }

  AeadKey key;
  std::vector<std::byte> message;
  std::size_t frame_size;
  std::uint64_t counter = 0;
  double fastest = std::numeric_limits<double>::infinity();  // seconds per round
};

double seconds_of_round(Bench& bench, const util::Clock& clock) {
  auto start = clock.now();
  bench.seal_round();
  return std::chrono::duration<double>(clock.now() - start).count();
}

double bytes_per_second(const Bench& bench) {
  if (!(bench.fastest > 0) || std::isinf(bench.fastest)) return 0;
  return static_cast<double>(bench.frame_size) * kFramesPerRound / bench.fastest;
}

}  // namespace

int score_from_speeds(double aes_bytes_per_second, double chacha_bytes_per_second) {
  if (!(aes_bytes_per_second > 0) || !(chacha_bytes_per_second > 0) ||
      std::isinf(aes_bytes_per_second) || std::isinf(chacha_bytes_per_second))
    return 0;
  double score =
      std::round(kScorePerDoubling * std::log2(aes_bytes_per_second / chacha_bytes_per_second));
  return static_cast<int>(std::clamp(score, static_cast<double>(-kMaxMeasuredScore),
                                     static_cast<double>(kMaxMeasuredScore)));
}

CipherSpeed measure_cipher_speed(std::size_t frame_size, bool aes_available,
                                 const util::Clock& clock) {
  Bench chacha(Aead::chacha20poly1305, frame_size);
  std::optional<Bench> aes;  // libsodium's AES-256-GCM must not run without AES-NI
  if (aes_available) aes.emplace(Aead::aes256gcm, frame_size);
  std::vector<Bench*> benches{&chacha};
  if (aes) benches.push_back(&*aes);
  // Warm-up (caches, the key arena's pages, the CPU's clock ramping up), then the rounds
  // interleaved, so a slow spell of the machine hits both ciphers alike.
  for (Bench* b : benches) b->seal_round();
  for (int round = 0; round < kRounds; ++round)
    for (Bench* b : benches) b->fastest = std::min(b->fastest, seconds_of_round(*b, clock));
  CipherSpeed speed;
  speed.chacha_bytes_per_second = bytes_per_second(chacha);
  if (aes) speed.aes_bytes_per_second = bytes_per_second(*aes);
  speed.score = score_from_speeds(speed.aes_bytes_per_second, speed.chacha_bytes_per_second);
  return speed;
}

std::string describe(const CipherSpeed& speed) {
  auto rate = [](const char* name, double bytes_per_second) {
    char text[64];
    if (bytes_per_second > 0)
      std::snprintf(text, sizeof text, "%s %.2f GB/s", name, bytes_per_second / 1e9);
    else
      std::snprintf(text, sizeof text, "%s not available", name);
    return std::string(text);
  };
  return rate("aes-256-gcm", speed.aes_bytes_per_second) + ", " +
         rate("chacha20-poly1305", speed.chacha_bytes_per_second) + ", score " +
         std::to_string(speed.score);
}

}  // namespace tund::crypto
