// A fixed pool of threads that runs one batch of independent items at a time: the data
// path's AEAD seal/open of the frames of one event-loop wake-up (up to ~64-128), spread
// over the loop thread plus threads-1 helpers (--threads N, issue 16).
//
// Why this shape: one event loop owns all of the engine's state (ARCHITECTURE.md); only
// the pure per-frame crypto runs elsewhere, and only while the loop waits in run(). There
// are no locks on the per-packet path: a batch is published once (one store, one wake-up),
// items are claimed by compare-and-swap in small chunks, and the caller waits for the last
// item (a brief spin, then std::atomic::wait, i.e. a futex). Idle helpers sleep in
// std::atomic::wait: nothing spins while there is no traffic, the machine is shared.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace tund::util {

class WorkerPool {
 public:
  // threads >= 1 (0 is taken as 1): the calling thread plus threads-1 helpers started
  // here. Throws std::system_error if a thread cannot be started (the ones already started
  // are stopped and joined first).
  explicit WorkerPool(unsigned threads);
  ~WorkerPool();  // stops and joins the helpers
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  unsigned threads() const { return threads_; }

  // Calls job(i) exactly once for every i in [0, count) and returns when every call has
  // returned; everything the calls wrote is then visible to the caller. The order of the
  // calls and the thread each runs on are unspecified. The caller takes part; helpers that
  // wake late find nothing left. Runs inline (no helper woken) when threads() == 1 or
  // count < kMinParallel. Only one thread may call run() at a time (the owner's event
  // loop), and never from inside a job. job must not throw (a throw terminates).
  // `share` false: inline whatever the count (the caller judged the work too small to be
  // worth a hand-off), still counted as the caller's.
  static constexpr std::size_t kMinParallel = 4;
  template <class Job>
  void run(std::size_t count, Job& job, bool share = true) {
    run_erased(
        count, [](void* context, std::size_t i) noexcept { (*static_cast<Job*>(context))(i); },
        const_cast<void*>(static_cast<const void*>(&job)), share);
  }

  // While off, every run() is inline (counted as the caller's): the owner turns sharing off
  // when no CPU is free for the helpers (a hand-off then waits for a CPU and costs more
  // than it saves). On at construction.
  void set_sharing(bool on) { sharing_ = on; }
  bool sharing() const { return sharing_; }
  // CPU time the helpers have used so far (their thread CPU clocks); zero without helpers.
  std::chrono::nanoseconds helpers_cpu_time();

  // Items each thread ran so far (index 0: the caller, 1..threads()-1: the helpers), for
  // status. Relaxed reads: exact once run() has returned, approximate while one runs.
  std::vector<std::uint64_t> items_per_thread() const;

 private:
  using Call = void (*)(void*, std::size_t);
  // One per thread, on a cache line of its own: each is written by one thread only, and
  // counters sharing a line would bounce it between cores on every chunk.
  struct alignas(64) Counter {
    std::atomic<std::uint64_t> items{0};
  };

  void run_erased(std::size_t count, Call call, void* context, bool share);
  void run_slice(std::size_t base, std::uint32_t count);
  void publish(std::size_t base, std::uint32_t count);
  void wait_done() const;
  void work(unsigned index) noexcept;
  void helper_main(unsigned index) noexcept;
  void stop() noexcept;

  const unsigned threads_;
  std::unique_ptr<Counter[]> counters_;
  std::vector<std::thread> helpers_;
  bool sharing_ = true;  // the owner's thread only

  // The job, written by the caller only between batches (while no item is claimable) and
  // read by a participant only after it claimed an item of that job (see work()).
  Call call_ = nullptr;
  void* context_ = nullptr;
  std::size_t base_ = 0;  // item i of the slice is job item base_ + i (counts above 2^32)

  // Bumped once per batch (and at shutdown); idle helpers wait on it.
  alignas(64) std::atomic<std::uint32_t> generation_{0};
  std::atomic<bool> stopping_{false};
  // generation << 32 | items not yet claimed (claimed from the top down). Hammered by
  // every participant's CAS: a cache line of its own.
  alignas(64) std::atomic<std::uint64_t> claim_{0};
  // Items claimed but not yet finished, plus those not yet claimed; the caller waits for 0.
  alignas(64) std::atomic<std::uint32_t> pending_{0};
};

}  // namespace tund::util
