// How the cipher work of one batch scales over --threads (a benchmark: it prints figures
// and never fails on them). The data path hands the AEAD seal of each batch of frames to
// util::WorkerPool (the event loop plus threads-1 helpers, issue 16); this runs that same
// hand-off with nothing else on the machine's CPUs: batches of kBatch frames of FRAME_SIZE
// bytes, each sealed in place by crypto::AeadKey (the faster cipher here: AES-256-GCM
// with AES-NI, else ChaCha20-Poly1305), one pool.run() per batch, for 1..MAX threads.
//
// Wall time, not CPU time: a speed-up is wall time saved. So the figure needs as many idle
// CPUs as threads; on a busy machine it shrinks, which is why the daemon only shares while
// a CPU is free (docs/PERFORMANCE.md). CPU-s/GB (the process's, all threads) shows what the
// hand-off adds: its wake-ups and the cache lines the threads pass between them.
//
//   usage: pool_bench [--machine] [MAX_THREADS] [FRAME_SIZE]
//   MAX_THREADS: 1..64 (default: the CPUs this process may use); FRAME_SIZE: 1..65475
//     bytes (default 1400). Anything else: a one-line error and exit 2.
//   --machine: one line per thread count, "THREADS GB_PER_S SPEEDUP CPU_S_PER_GB".
#include <sched.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_time.hpp"
#include "tool_main.hpp"
#include "tund/crypto/primitives.hpp"
#include "tund/proto/wire.hpp"
#include "tund/util/worker_pool.hpp"

namespace {

using namespace tund;

constexpr double kGB = 1e9;
constexpr double kMinSeconds = 0.3;   // wall time per timed run
constexpr int kRuns = 3;              // the best run counts: interruptions only slow one down
constexpr std::size_t kBatch = 64;    // the engine's outbound batch (engine_outbound.cpp)
constexpr unsigned kMaxThreads = 64;  // as --threads
constexpr std::size_t kHeader = proto::kTransportHeaderSize;
constexpr std::size_t kTag = crypto::kTagSize;
constexpr const char* kUsage = "usage: pool_bench [--machine] [MAX_THREADS] [FRAME_SIZE]";

struct Options {
  bool machine = false;
  unsigned max_threads = 0;  // 0: the usable CPUs
  std::size_t frame = proto::kDefaultMtu;
};

struct Result {
  unsigned threads = 0;
  double gb_per_s = 0;      // frame bytes sealed per wall second
  double cpu_s_per_gb = 0;  // the process's CPU time per 10^9 frame bytes
};

std::optional<std::size_t> parse_number(std::string_view text, std::size_t low, std::size_t high) {
  std::size_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  if (value < low || value > high) return std::nullopt;
  return value;
}

// The options, or a one-line error for the caller to print. Positional: MAX_THREADS first.
std::optional<Options> parse_args(int argc, char** argv, std::string& error) {
  Options options;
  int positional = 0;
  const std::size_t max_frame = proto::max_frame_size(proto::kMaxTunnelMtu, true);
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--machine") {
      options.machine = true;
      continue;
    }
    std::optional<std::size_t> value;
    if (positional == 0) value = parse_number(arg, 1, kMaxThreads);
    if (positional == 1) value = parse_number(arg, 1, max_frame);
    if (!value) {
      error = "pool_bench: bad argument '" + std::string(arg) + "': MAX_THREADS is 1.." +
              std::to_string(kMaxThreads) + ", FRAME_SIZE 1.." + std::to_string(max_frame) +
              " bytes (" + kUsage + ")";
      return std::nullopt;
    }
    if (positional++ == 0)
      options.max_threads = static_cast<unsigned>(*value);
    else
      options.frame = *value;
  }
  return options;
}

unsigned usable_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return static_cast<unsigned>(std::max(1, CPU_COUNT(&set)));
}

double wall_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Seals batches of kBatch frames through a pool of `threads`: the best of kRuns runs.
Result measure(unsigned threads, crypto::Aead aead, std::size_t frame) {
  crypto::AeadKey key(aead, crypto::random_private_key());
  std::vector<std::vector<std::byte>> batch(kBatch, std::vector<std::byte>(kHeader + frame + kTag));
  util::WorkerPool pool(threads);
  std::uint64_t counter = 0;
  auto seal = [&](std::size_t i) {
    std::byte* body = batch[i].data() + kHeader;
    key.seal(counter + i, {batch[i].data(), kHeader}, {body, frame}, body);
  };
  Result best{threads, 0, 0};
  for (int run = 0; run < kRuns; ++run) {
    double start = wall_seconds(), cpu_start = bench::process_cpu_seconds(), elapsed = 0;
    std::uint64_t batches = 0;
    while (elapsed < kMinSeconds) {
      pool.run(kBatch, seal);
      counter += kBatch;
      ++batches;
      elapsed = wall_seconds() - start;
    }
    double gb = double(batches * kBatch) * double(frame) / kGB;
    double cpu = bench::process_cpu_seconds() - cpu_start;
    if (gb / elapsed > best.gb_per_s) best = {threads, gb / elapsed, cpu / gb};
  }
  return best;
}

void print_table(const Options& options, const char* cipher, const std::vector<Result>& results) {
  std::printf(
      "%s seal of %zu-frame batches of %zu bytes through util::WorkerPool, as the data path"
      "\nhands them over with --threads N; wall time, best of %d runs of %.1f s; needs N idle"
      " CPUs\n(%u usable here); GB = 10^9 frame bytes; CPU-s/GB: all threads\n\n",
      cipher, kBatch, options.frame, kRuns, kMinSeconds, usable_cpus());
  std::printf(
      "| threads |  GB/s | speed-up | CPU-s/GB |\n|---------|-------|----------|----------|\n");
  for (const Result& r : results)
    std::printf("| %7u | %5.2f | %7.2fx | %8.3f |\n", r.threads, r.gb_per_s,
                r.gb_per_s / results.front().gb_per_s, r.cpu_s_per_gb);
}

void print_machine(const std::vector<Result>& results) {
  for (const Result& r : results)
    std::printf("%u %.4f %.4f %.4f\n", r.threads, r.gb_per_s, r.gb_per_s / results.front().gb_per_s,
                r.cpu_s_per_gb);
}

}  // namespace

int main(int argc, char** argv) {
  return bench::tool_main("pool_bench", argc, argv, parse_args, [](const Options& options) {
    bool aes = crypto::aes256gcm_available();
    crypto::Aead aead = aes ? crypto::Aead::aes256gcm : crypto::Aead::chacha20poly1305;
    unsigned max = options.max_threads ? options.max_threads : usable_cpus();
    std::vector<Result> results;
    for (unsigned threads = 1; threads <= max; ++threads)
      results.push_back(measure(threads, aead, options.frame));
    if (options.machine)
      print_machine(results);
    else
      print_table(options, aes ? "AES-256-GCM" : "ChaCha20-Poly1305", results);
  });
}
