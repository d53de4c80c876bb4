#include "tund/util/log.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <utility>

namespace tund::util {
namespace {

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "?";
}

// Under systemd the journal stamps lines itself; elsewhere a UTC timestamp helps to line
// up the two ends of a tunnel.
void write_stderr(LogLevel level, std::string_view text) {
  char stamp[32] = "";
  if (std::getenv("JOURNAL_STREAM") == nullptr) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm utc{};
    gmtime_r(&ts.tv_sec, &utc);
    std::size_t n = std::strftime(stamp, sizeof stamp, "%H:%M:%S", &utc);
    std::snprintf(stamp + n, sizeof stamp - n, ".%03ld ", ts.tv_nsec / 1000000);
  }
  std::fprintf(stderr, "%stund %s: %.*s\n", stamp, level_name(level), static_cast<int>(text.size()),
               text.data());
}

}  // namespace

Logger::Logger(LogLevel min_level, Sink sink)
    : min_level_(min_level), sink_(sink ? std::move(sink) : Sink(write_stderr)) {}

void Logger::write(LogLevel level, std::string_view text) {
  sink_(level, text);
}

bool LogLimiter::allow(Clock::time_point now, unsigned long& suppressed) {
  if (now - window_start_ >= window_) {
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ < burst_) {
    ++in_window_;
    suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }
  ++suppressed_;
  return false;
}

unsigned long LogLimiter::take_suppressed(Clock::time_point now) {
  if (suppressed_ == 0 || now - window_start_ < window_) return 0;
  return std::exchange(suppressed_, 0);
}

void warn_limited(Logger& log, LogLimiter& limiter, const std::string& what) {
  log_limited(log, limiter, LogLevel::warn, what);
}

void log_limited(Logger& log, LogLimiter& limiter, LogLevel level, const std::string& what) {
  unsigned long suppressed = 0;
  if (!limiter.allow(LogLimiter::Clock::now(), suppressed)) return;
  log.log(level, what,
          suppressed ? " (" + std::to_string(suppressed) + " similar suppressed)" : "");
}

void report_suppressed(Logger& log, LogLimiter& limiter, LogLevel level, const std::string& kind) {
  if (unsigned long n = limiter.take_suppressed(LogLimiter::Clock::now()))
    log.log(level, kind, ": ", n, " similar lines suppressed");
}

}  // namespace tund::util
