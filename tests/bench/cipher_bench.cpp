// What the ciphers tund can negotiate cost one core at the tunnel's frame size (a
// benchmark: it prints figures and never fails on them). For each cipher: seal and open of
// one frame after another, in CPU time of this thread (on a shared machine wall time also
// counts other processes), as GB/s and CPU-s/GB (GB = 10^9 frame bytes, the plaintext a
// frame carries; the 16-byte header is the associated data, as on the wire).
//
// It calls tund's own crypto::AeadKey, the data path's cipher (Session::seal / receive):
// libsodium's IETF ChaCha20-Poly1305, or AES-256-GCM with the key schedule expanded once
// (crypto_aead_aes256gcm_beforenm, then ..._encrypt_afternm / _decrypt_afternm), keys in
// the key arena, the nonce from the message counter. So the figure is what the cipher
// costs tund, and it follows any change there. AES-256-GCM is "not available" on a CPU
// without AES-NI (libsodium has no software fallback; tund then negotiates ChaCha20).
//
//   usage: cipher_bench [--machine] [FRAME_SIZE]
//   FRAME_SIZE: bytes of frame (default 1400, the default device MTU: a TUN frame is the
//     IP packet), 1 .. the largest frame tund sends (65475); anything else: a one-line
//     error and exit 2.
//   --machine: one line per cipher, "NAME SEAL OPEN" in CPU-s/GB ("NAME - -" when not
//     available), NAME as tund show reports it; for scripts (tests/bench/compare.sh).
#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_time.hpp"
#include "tool_main.hpp"
#include "tund/crypto/primitives.hpp"
#include "tund/proto/wire.hpp"

namespace {

using namespace tund;
using crypto::Aead;

constexpr double kGB = 1e9;
constexpr double kMinSeconds = 0.2;  // CPU time per timed run
constexpr int kRuns = 3;             // the best run counts: interruptions only slow one down
constexpr std::size_t kHeader = proto::kTransportHeaderSize;
constexpr std::size_t kTag = crypto::kTagSize;
constexpr const char* kUsage = "usage: cipher_bench [--machine] [FRAME_SIZE]";

struct Cipher {
  Aead aead;
  const char* name;  // as crypto::Session::cipher_name() and tund show
};
constexpr std::array<Cipher, 2> kCiphers = {
    {{Aead::aes256gcm, "AES-256-GCM"}, {Aead::chacha20poly1305, "ChaCha20-Poly1305"}}};

struct Options {
  bool machine = false;
  std::size_t frame = proto::kDefaultMtu;
};

struct Cost {
  double seal = 0, open = 0;  // CPU-s/GB
};

// A frame size as a whole decimal number within tund's limits, or nullopt.
std::optional<std::size_t> parse_size(std::string_view text) {
  std::size_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  if (value < 1 || value > proto::max_frame_size(proto::kMaxTunnelMtu, true)) return std::nullopt;
  return value;
}

// The options, or a one-line error for the caller to print.
std::optional<Options> parse_args(int argc, char** argv, std::string& error) {
  Options options;
  bool sized = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--machine") {
      options.machine = true;
      continue;
    }
    std::optional<std::size_t> size = parse_size(arg);
    if (!size || sized) {
      error = "cipher_bench: bad argument '" + std::string(arg) + "': FRAME_SIZE is 1.." +
              std::to_string(proto::max_frame_size(proto::kMaxTunnelMtu, true)) + " bytes (" +
              kUsage + ")";
      return std::nullopt;
    }
    options.frame = *size;
    sized = true;
  }
  return options;
}

// CPU-s/GB of `op` (one frame of `frame` bytes per call): the best of kRuns runs of at
// least kMinSeconds each.
template <class Op>
double seconds_per_gb(std::size_t frame, Op op) {
  double best = 0;
  for (int run = 0; run < kRuns; ++run) {
    std::uint64_t frames = 0;
    double start = bench::thread_cpu_seconds(), elapsed = 0;
    while (elapsed < kMinSeconds) {
      for (int i = 0; i < 256; ++i) op(frames++);
      elapsed = bench::thread_cpu_seconds() - start;
    }
    double cost = elapsed / (double(frames) * double(frame) / kGB);
    if (run == 0 || cost < best) best = cost;
  }
  return best;
}

// Seals in place, header as associated data, the counter as nonce: Session::seal's call.
Cost measure(Aead aead, std::size_t frame) {
  crypto::AeadKey key(aead, crypto::random_private_key());
  std::vector<std::byte> message(kHeader + frame + kTag, std::byte{0x5a});
  std::byte* body = message.data() + kHeader;
  Cost cost;
  cost.seal = seconds_per_gb(frame, [&](std::uint64_t n) {
    key.seal(n, {message.data(), kHeader}, {body, frame}, body);
  });
  // Opening needs real ciphertexts: a few sealed once, opened in turn. tund opens in place;
  // here into another buffer, so the ciphertexts stay for the next turn (the same call,
  // the same work on cache-hot bytes).
  constexpr std::size_t kSealed = 16;
  std::vector<std::vector<std::byte>> sealed(kSealed, message);
  for (std::size_t i = 0; i < kSealed; ++i)
    key.seal(i, {sealed[i].data(), kHeader}, {sealed[i].data() + kHeader, frame},
             sealed[i].data() + kHeader);
  std::vector<std::byte> out(frame + kTag);
  cost.open = seconds_per_gb(frame, [&](std::uint64_t n) {
    const std::vector<std::byte>& m = sealed[n % kSealed];
    if (!key.open(n % kSealed, {m.data(), kHeader}, {m.data() + kHeader, frame + kTag}, out.data()))
      throw std::runtime_error("a sealed frame did not open");
  });
  return cost;
}

void print_table(const Options& options, const std::vector<std::optional<Cost>>& costs) {
  std::printf(
      "tund's ciphers on one core: %zu-byte frames, sealed and opened as tund's data path"
      " does\n(crypto::AeadKey: libsodium, expanded AES key, 16-byte header as associated"
      " data); CPU time\nof this thread, best of %d runs of %.1f s; GB = 10^9 frame "
      "bytes\n\n",
      options.frame, kRuns, kMinSeconds);
  std::printf("| %-17s | %9s | %13s | %9s | %13s |\n", "cipher", "seal GB/s", "seal CPU-s/GB",
              "open GB/s", "open CPU-s/GB");
  std::printf("|-------------------|-----------|---------------|-----------|---------------|\n");
  for (std::size_t i = 0; i < kCiphers.size(); ++i) {
    if (!costs[i]) {
      std::printf("| %-17s | not available (this CPU has no AES-NI)                  |\n",
                  kCiphers[i].name);
      continue;
    }
    const Cost& c = *costs[i];
    std::printf("| %-17s | %9.2f | %13.3f | %9.2f | %13.3f |\n", kCiphers[i].name, 1 / c.seal,
                c.seal, 1 / c.open, c.open);
  }
}

void print_machine(const std::vector<std::optional<Cost>>& costs) {
  for (std::size_t i = 0; i < kCiphers.size(); ++i) {
    if (costs[i])
      std::printf("%s %.4f %.4f\n", kCiphers[i].name, costs[i]->seal, costs[i]->open);
    else
      std::printf("%s - -\n", kCiphers[i].name);
  }
}

}  // namespace

int main(int argc, char** argv) {
  return bench::tool_main("cipher_bench", argc, argv, parse_args, [](const Options& options) {
    std::vector<std::optional<Cost>> costs;
    for (const Cipher& c : kCiphers) {
      if (c.aead == Aead::aes256gcm && !crypto::aes256gcm_available())
        costs.emplace_back();
      else
        costs.emplace_back(measure(c.aead, options.frame));
    }
    options.machine ? print_machine(costs) : print_table(options, costs);
  });
}
