// The worker pool's contract: every item exactly once, results visible when run() returns,
// batch after batch (a generation race would show as a lost or doubled item), helpers that
// really take part, inline runs where promised. Built into tund_thread_tests (label
// threads), which tests/run.sh also runs under ThreadSanitizer: a data race in the pool's
// handover fails there even when the sums here come out right. No timing in pass/fail.
#include "tund/util/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <thread>
#include <vector>

namespace tund::util {
namespace {

using namespace std::chrono_literals;

// Counts the calls per item; the counters are atomic because items run on any thread.
struct CountCalls {
  explicit CountCalls(std::size_t n) : calls(n) {}
  void operator()(std::size_t i) { calls[i].fetch_add(1, std::memory_order_relaxed); }
  std::vector<std::atomic<int>> calls;
};

std::uint64_t total(const WorkerPool& pool) {
  auto items = pool.items_per_thread();
  return std::accumulate(items.begin(), items.end(), std::uint64_t{0});
}

class WorkerPoolSizes : public ::testing::TestWithParam<unsigned> {};

TEST_P(WorkerPoolSizes, CallsEveryItemExactlyOnce) {
  WorkerPool pool(GetParam());
  std::uint64_t expected_total = 0;
  for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{3},
                            WorkerPool::kMinParallel, std::size_t{100}, std::size_t{1000}}) {
    CountCalls job(count);
    pool.run(count, job);
    for (std::size_t i = 0; i < count; ++i) {
      ASSERT_EQ(job.calls[i].load(), 1) << "item " << i << " of " << count;
    }
    expected_total += count;
    EXPECT_EQ(total(pool), expected_total) << "items_per_thread sums to every item run";
  }
}

// Plain (non-atomic) writes by the jobs, read by the caller after run(): run() must make
// them visible (ThreadSanitizer checks the happens-before, the sums the values). Small
// batches back to back: a helper still finishing batch k while batch k+1 is published is
// where a generation race would lose or repeat an item.
TEST_P(WorkerPoolSizes, ManyConsecutiveBatchesEachCompleteAndVisible) {
  WorkerPool pool(GetParam());
  std::vector<std::uint64_t> out(16);
  std::uint64_t expected_total = 0;
  for (std::uint64_t batch = 0; batch < 20000; ++batch) {
    const std::size_t count = WorkerPool::kMinParallel + batch % 13;
    auto job = [&](std::size_t i) { out[i] = batch * 100 + i; };
    pool.run(count, job);
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < count; ++i) sum += out[i];
    const std::uint64_t want = batch * 100 * count + count * (count - 1) / 2;
    ASSERT_EQ(sum, want) << "batch " << batch;
    expected_total += count;
  }
  EXPECT_EQ(total(pool), expected_total);
}

INSTANTIATE_TEST_SUITE_P(Threads, WorkerPoolSizes, ::testing::Values(1u, 2u, 3u, 8u));

TEST(WorkerPool, ZeroThreadsIsTakenAsOne) {
  WorkerPool pool(0);
  EXPECT_EQ(pool.threads(), 1u);
  EXPECT_EQ(pool.items_per_thread().size(), 1u);
  CountCalls job(10);
  pool.run(10, job);
  EXPECT_EQ(job.calls[9].load(), 1);
}

TEST(WorkerPool, OneThreadRunsInlineOnTheCaller) {
  WorkerPool pool(1);
  const auto caller = std::this_thread::get_id();
  int elsewhere = 0;
  auto job = [&](std::size_t) { elsewhere += std::this_thread::get_id() != caller; };
  pool.run(1000, job);
  EXPECT_EQ(elsewhere, 0);
  EXPECT_EQ(pool.items_per_thread(), std::vector<std::uint64_t>{1000});
}

TEST(WorkerPool, SmallBatchesRunInlineEvenWithHelpers) {
  WorkerPool pool(4);
  const auto caller = std::this_thread::get_id();
  int elsewhere = 0;
  auto job = [&](std::size_t) { elsewhere += std::this_thread::get_id() != caller; };
  for (int round = 0; round < 100; ++round) pool.run(WorkerPool::kMinParallel - 1, job);
  EXPECT_EQ(elsewhere, 0);
  EXPECT_EQ(pool.items_per_thread()[0], 100 * (WorkerPool::kMinParallel - 1));
}

// Each item the caller runs blocks until some item has run on another thread: if the
// helper never took part, the caller would block forever, so the wait is bounded and its
// expiry fails the test (10 s: a failure, not a timing measurement).
TEST(WorkerPool, TheHelperTakesPart) {
  WorkerPool pool(2);
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> helper_ran{false};
  std::atomic<bool> gave_up{false};
  auto job = [&](std::size_t) {
    if (std::this_thread::get_id() != caller) {
      helper_ran.store(true);
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!helper_ran.load() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    if (!helper_ran.load()) gave_up.store(true);
  };
  pool.run(100, job);
  EXPECT_FALSE(gave_up.load()) << "no item ran on the helper thread";
  EXPECT_TRUE(helper_ran.load());
  const auto items = pool.items_per_thread();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_GT(items[1], 0u) << "the helper's count";
  EXPECT_EQ(items[0] + items[1], 100u);
}

// The helpers sleep between batches; the destructor must wake and join them, whether they
// ever ran an item or not (the test would hang, then time out, if it did not).
TEST(WorkerPool, DestructorJoinsIdleHelpers) {
  { WorkerPool never_used(4); }
  WorkerPool pool(4);
  CountCalls job(64);
  pool.run(64, job);
  std::this_thread::sleep_for(10ms);  // let the helpers go back to sleep (not a pass/fail)
}

// Sharing off (no CPU free for the helpers): every batch runs on the caller's thread.
TEST(WorkerPool, WithSharingOffEveryBatchRunsOnTheCaller) {
  WorkerPool pool(2);
  pool.set_sharing(false);
  const auto caller = std::this_thread::get_id();
  std::atomic<int> elsewhere{0};
  auto job = [&](std::size_t) {
    if (std::this_thread::get_id() != caller) ++elsewhere;
  };
  for (int round = 0; round < 50; ++round) pool.run(1000, job);
  EXPECT_EQ(elsewhere.load(), 0);
  EXPECT_EQ(pool.items_per_thread()[0], 50u * 1000u);
  EXPECT_EQ(pool.items_per_thread()[1], 0u);
  pool.set_sharing(true);
  EXPECT_TRUE(pool.sharing());
  EXPECT_GE(pool.helpers_cpu_time().count(), 0);
}

}  // namespace
}  // namespace tund::util
