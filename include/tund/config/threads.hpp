// How many threads seal and open frames: Config::threads (--threads, 0 = auto) resolved
// against the CPUs this process may run on. Header-only (three small functions) so that
// every module can call it without another source file in the build.
#pragma once

#include <sched.h>  // sched_getaffinity(2), CPU_COUNT(3)

#include <algorithm>
#include <thread>

#include "tund/config/config.hpp"  // kMaxThreads

namespace tund::config {

// `configured` (1..) as it is; 0 ("auto") becomes `available` CPUs, at least 1. Either way
// at most kMaxThreads. Pure, so that the rule is testable on any machine.
constexpr unsigned resolve_threads(unsigned configured, unsigned available) noexcept {
  unsigned wanted = configured != 0 ? configured : std::max(available, 1u);
  return std::min(wanted, kMaxThreads);
}

// The CPUs this process may use: its affinity mask (taskset, cpuset cgroups, systemd's
// CPUAffinity=), which std::thread::hardware_concurrency() ignores. The latter only when
// sched_getaffinity fails (more CPUs than a cpu_set_t holds, 1024); 0 if neither knows.
inline unsigned available_cpus() noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0) return static_cast<unsigned>(count);
  }
  return std::thread::hardware_concurrency();
}

// The thread count to run with (1..kMaxThreads) for Config::threads.
inline unsigned effective_threads(unsigned configured) noexcept {
  return resolve_threads(configured, available_cpus());
}

}  // namespace tund::config
