// How a batch is shared without locks, and why it is safe (the happens-before argument):
//
// publish: the caller writes the job fields (call_, context_, base_) and pending_, then
//   stores claim_ = generation << 32 | count (release), then generation_ (release), then
//   notifies the sleepers. claim_ comes first so that a helper that sees the new generation
//   also sees the new items.
// claim: a participant reads claim_ and CASes "remaining" down by a chunk (acquire). A
//   successful CAS reads from the release sequence of the caller's publishing store (all
//   later writes to claim_ are RMWs), so the job fields of that batch are visible; they are
//   read only AFTER a successful claim. A helper that woke late, or still holds the word
//   of an older batch, fails its CAS (the generation in the word differs) and never reads
//   a field of a job it did not claim.
// finish: after running its chunk the participant subtracts it from pending_ (acq_rel).
//   The job cannot end, hence the caller cannot write the next job's fields, before that
//   subtraction: every read of the job fields happens before the caller's next writes.
// wait: the caller's acquire load that sees pending_ == 0 reads the last subtraction, so
//   every call's writes (and the per-thread counters) are visible when run() returns.
#include "tund/util/worker_pool.hpp"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <limits>
#include <string>

namespace tund::util {
namespace {

constexpr std::uint64_t kRemainingMask = 0xffffffffu;
// Spins (with a pause each) before the caller sleeps on pending_: the helpers usually
// finish their last chunk within a few hundred nanoseconds, cheaper than a futex round trip.
constexpr int kSpins = 256;
// The largest chunk claimed at once. Chunks shrink as the batch drains (see chunk_for) so
// that the participants finish together instead of one running a big last chunk alone.
constexpr std::uint32_t kMaxChunk = 4;

std::uint32_t remaining(std::uint64_t word) {
  return static_cast<std::uint32_t>(word & kRemainingMask);
}

// Guided: half of one thread's share of what is left, at most kMaxChunk, at least 1.
std::uint32_t chunk_for(std::uint32_t left, unsigned threads) {
  return std::clamp<std::uint32_t>(left / (2 * threads), 1, std::min(kMaxChunk, left));
}

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

WorkerPool::WorkerPool(unsigned threads)
    : threads_(std::max(threads, 1u)), counters_(std::make_unique<Counter[]>(threads_)) {
  helpers_.reserve(threads_ - 1);
  try {
    for (unsigned i = 1; i < threads_; ++i) {
      helpers_.emplace_back([this, i] { helper_main(i); });
      // "tund-pool-N" in top -H and perf; failure only loses the name.
      std::string name = "tund-pool-" + std::to_string(i);
      pthread_setname_np(helpers_.back().native_handle(), name.c_str());
    }
  } catch (...) {
    stop();
    throw;
  }
}

WorkerPool::~WorkerPool() {
  stop();
}

// Not concurrent with run() (same owner). The generation bump wakes every sleeper; a helper
// that sees the new generation (acquire) also sees stopping_.
void WorkerPool::stop() noexcept {
  stopping_.store(true, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (auto& helper : helpers_) helper.join();
  helpers_.clear();
}

std::chrono::nanoseconds WorkerPool::helpers_cpu_time() {
  std::chrono::nanoseconds sum{0};
  for (auto& helper : helpers_) {
    clockid_t clock;
    timespec ts{};
    if (pthread_getcpuclockid(helper.native_handle(), &clock) != 0 ||
        clock_gettime(clock, &ts) != 0)
      continue;
    sum += std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  }
  return sum;
}

std::vector<std::uint64_t> WorkerPool::items_per_thread() const {
  std::vector<std::uint64_t> items(threads_);
  for (unsigned i = 0; i < threads_; ++i) {
    items[i] = counters_[i].items.load(std::memory_order_relaxed);
  }
  return items;
}

void WorkerPool::run_erased(std::size_t count, Call call, void* context, bool share) {
  if (count == 0) return;
  if (!share || !sharing_ || helpers_.empty() || count < kMinParallel) {
    for (std::size_t i = 0; i < count; ++i) call(context, i);
    auto& mine = counters_[0].items;
    mine.store(mine.load(std::memory_order_relaxed) + count, std::memory_order_relaxed);
    return;
  }
  call_ = call;
  context_ = context;
  // The claim word has 32 bits for the items left: larger counts go in slices (never in
  // tund, whose batches are a few hundred frames at most).
  constexpr std::size_t kSlice = std::numeric_limits<std::uint32_t>::max();
  for (std::size_t base = 0; base < count; base += kSlice) {
    run_slice(base, static_cast<std::uint32_t>(std::min(kSlice, count - base)));
  }
}

void WorkerPool::run_slice(std::size_t base, std::uint32_t count) {
  publish(base, count);
  work(0);
  wait_done();
}

void WorkerPool::publish(std::size_t base, std::uint32_t count) {
  base_ = base;
  pending_.store(count, std::memory_order_relaxed);
  // Only the owner writes generation_ (stop() too, never concurrently), so a relaxed read.
  const std::uint32_t generation = generation_.load(std::memory_order_relaxed) + 1;
  claim_.store(std::uint64_t{generation} << 32 | count, std::memory_order_release);
  generation_.store(generation, std::memory_order_release);
  generation_.notify_all();  // libstdc++ makes no syscall when nobody sleeps
}

void WorkerPool::wait_done() const {
  for (int i = 0; i < kSpins; ++i) {
    if (pending_.load(std::memory_order_acquire) == 0) return;
    cpu_relax();
  }
  for (;;) {
    const std::uint32_t left = pending_.load(std::memory_order_acquire);
    if (left == 0) return;
    pending_.wait(left, std::memory_order_acquire);  // woken by the last item's finisher
  }
}

// Claims and runs chunks until nothing is left to claim (see the top of this file).
void WorkerPool::work(unsigned index) noexcept {
  std::uint64_t word = claim_.load(std::memory_order_relaxed);
  for (;;) {
    const std::uint32_t left = remaining(word);
    if (left == 0) return;
    const std::uint32_t take = chunk_for(left, threads_);
    // word - take lowers only the low half (take <= left); a failed CAS reloads word.
    if (!claim_.compare_exchange_weak(word, word - take, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
      continue;
    }
    // Claimed items [left - take, left) of the batch whose generation is word's high half:
    // its fields are ours to read until pending_ says the chunk is done.
    const Call call = call_;
    void* const context = context_;
    const std::size_t base = base_;
    for (std::uint32_t i = left - take; i < left; ++i) call(context, base + i);
    // Counted before the chunk is reported done, so the caller sees it when run() returns.
    auto& mine = counters_[index].items;
    mine.store(mine.load(std::memory_order_relaxed) + take, std::memory_order_relaxed);
    if (pending_.fetch_sub(take, std::memory_order_acq_rel) == take) pending_.notify_one();
    word = claim_.load(std::memory_order_relaxed);
  }
}

void WorkerPool::helper_main(unsigned index) noexcept {
  // 0: the generation before any batch, so a batch published before this thread got here
  // is not missed (wait returns at once).
  std::uint32_t seen = 0;
  for (;;) {
    generation_.wait(seen, std::memory_order_acquire);
    seen = generation_.load(std::memory_order_acquire);
    if (stopping_.load(std::memory_order_relaxed)) return;
    work(index);
  }
}

}  // namespace tund::util
