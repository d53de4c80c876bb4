// CPU time for the benchmark tools (tests/bench/*.cpp): on a shared machine wall time also
// counts other processes, CPU time only this one's work. Header-only, so a tool compiled
// against an older tree by hand (crypto_cost.sh) finds it beside its source.
#pragma once

#include <time.h>

namespace tund::bench {

// Seconds of CPU (user + system) used by `clock` (clock_gettime(2)).
inline double cpu_seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

// The whole process (libsodium or a library may use threads of its own).
inline double process_cpu_seconds() {
  return cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

// This thread only: a loop timed on its own.
inline double thread_cpu_seconds() {
  return cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
}

}  // namespace tund::bench
