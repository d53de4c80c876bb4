// parse_proc_stat: the per-CPU lines of /proc/stat (proc(5)), only the CPUs asked for.
#include "tund/util/idle_cpus.hpp"

#include <gtest/gtest.h>

namespace tund::util {
namespace {

constexpr std::string_view kStat =
    "cpu  300 0 100 900 20 0 10 0 0 0\n"
    "cpu0 100 0 50 400 10 0 5 0 0 0\n"
    "cpu1 200 0 50 500 10 0 5 0 0 0\n"
    "cpu12 1 2 3 4 5 6 7 8 0 0\n"
    "intr 30197422 0 0\n"
    "ctxt 47283182\n";

TEST(ParseProcStat, SumsIdleAndIowaitOverTheCountedCpus) {
  auto all = parse_proc_stat(kStat, [](unsigned) { return true; });
  ASSERT_TRUE(all);
  EXPECT_EQ(all->cpus, 3u);
  EXPECT_EQ(all->idle, 410u + 510u + 9u);
  EXPECT_EQ(all->total, 565u + 765u + 36u);
  auto one = parse_proc_stat(kStat, [](unsigned cpu) { return cpu == 1; });
  ASSERT_TRUE(one);
  EXPECT_EQ(one->cpus, 1u);
  EXPECT_EQ(one->idle, 510u);
  EXPECT_EQ(one->total, 765u);
}

TEST(ParseProcStat, SkipsTheTotalLineAndMalformedOnes) {
  EXPECT_FALSE(parse_proc_stat("cpu  1 2 3 4 5 6 7 8\n", [](unsigned) { return true; }));
  EXPECT_FALSE(
      parse_proc_stat("cpu0 1 2 3\ncpux 1 2 3 4 5 6 7 8\n", [](unsigned) { return true; }));
  EXPECT_FALSE(parse_proc_stat("", [](unsigned) { return true; }));
  EXPECT_FALSE(parse_proc_stat(kStat, [](unsigned) { return false; }));
}

// The real file: a second sample gives a share of the machine's CPUs.
TEST(IdleCpuMeter, SamplesTheRunningMachine) {
  IdleCpuMeter meter;
  EXPECT_FALSE(meter.sample()) << "the first sample has nothing to compare with";
  volatile unsigned long spin = 0;
  for (int i = 0; i < 20000000; ++i) spin = spin + 1;  // let some ticks pass
  auto idle = meter.sample();
  if (!idle) GTEST_SKIP() << "no tick passed";
  EXPECT_GE(*idle, 0.0);
  EXPECT_LE(*idle, 1024.0);
}

}  // namespace
}  // namespace tund::util
