// How many CPUs sat idle: the kernel's per-CPU time accounting (/proc/stat, proc(5): the
// "cpuN user nice system idle iowait irq softirq steal ..." lines, in USER_HZ ticks),
// summed over the CPUs this process may run on (sched_getaffinity(2)). The worker pool
// shares a batch only while a CPU is free for its helpers (daemon: gate_workers).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace tund::util {

struct CpuTimes {
  std::uint64_t idle = 0;   // idle + iowait ticks
  std::uint64_t total = 0;  // all ticks (user .. steal)
  unsigned cpus = 0;        // the CPUs summed
};

// The "cpuN" lines of a /proc/stat text for which `counted(N)` is true (the "cpu" total
// line is skipped). nullopt if no such line parses.
std::optional<CpuTimes> parse_proc_stat(std::string_view text,
                                        const std::function<bool(unsigned)>& counted);

class IdleCpuMeter {
 public:
  // The CPUs idle on average since the previous sample (0 .. the CPUs counted): e.g. 1.5
  // is one and a half CPUs' worth of idle time. nullopt on the first call, or if
  // /proc/stat cannot be read (no /proc): the caller keeps its last decision.
  std::optional<double> sample();

 private:
  std::optional<CpuTimes> last_;
};

}  // namespace tund::util
