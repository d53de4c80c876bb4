#include "tund/util/idle_cpus.hpp"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>

namespace tund::util {
namespace {

// Reads the next unsigned number after spaces; false at the end of the line.
bool next_number(std::string_view& line, std::uint64_t& value) {
  std::size_t start = line.find_first_not_of(' ');
  if (start == std::string_view::npos) return false;
  line.remove_prefix(start);
  auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), value);
  if (ec != std::errc()) return false;
  line.remove_prefix(static_cast<std::size_t>(end - line.data()));
  return true;
}

// One "cpuN ..." line: idle = idle + iowait (fields 4 and 5), total = the first 8 fields
// (guest time is already inside user and nice).
bool add_cpu_line(std::string_view line, CpuTimes& sum) {
  std::uint64_t field[8] = {};
  for (auto& f : field)
    if (!next_number(line, f)) return false;
  sum.idle += field[3] + field[4];
  for (auto f : field) sum.total += f;
  ++sum.cpus;
  return true;
}

}  // namespace

std::optional<CpuTimes> parse_proc_stat(std::string_view text,
                                        const std::function<bool(unsigned)>& counted) {
  CpuTimes sum;
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.size() < 4 || line.substr(0, 3) != "cpu" || line[3] < '0' || line[3] > '9') continue;
    line.remove_prefix(3);
    std::uint64_t cpu = 0;
    if (!next_number(line, cpu) || !counted(static_cast<unsigned>(cpu))) continue;
    add_cpu_line(line, sum);
  }
  if (sum.cpus == 0) return std::nullopt;
  return sum;
}

std::optional<double> IdleCpuMeter::sample() {
  std::ifstream file("/proc/stat");
  if (!file) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  cpu_set_t mask;
  CPU_ZERO(&mask);
  bool have_mask = sched_getaffinity(0, sizeof mask, &mask) == 0;
  auto now = parse_proc_stat(text, [&](unsigned cpu) {
    return !have_mask || (cpu < CPU_SETSIZE && CPU_ISSET(cpu, &mask));
  });
  if (!now) return std::nullopt;
  auto last = std::exchange(last_, now);
  if (!last || now->total <= last->total || now->cpus != last->cpus) return std::nullopt;
  double idle = static_cast<double>(now->idle - std::min(now->idle, last->idle));
  return idle / static_cast<double>(now->total - last->total) * now->cpus;
}

}  // namespace tund::util
