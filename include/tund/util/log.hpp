// One log line per event on stderr. Components receive a Logger& instead of reaching for
// a global, so tests can capture output and two engines in one process keep apart.
#pragma once

#include <chrono>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace tund::util {

enum class LogLevel { debug, info, warn, error };

class Logger {
 public:
  using Sink = std::function<void(LogLevel, std::string_view)>;

  explicit Logger(LogLevel min_level = LogLevel::info, Sink sink = {});

  void set_level(LogLevel level) { min_level_ = level; }
  bool enabled(LogLevel level) const { return level >= min_level_; }

  template <typename... Args>
  void log(LogLevel level, const Args&... args) {
    if (!enabled(level)) return;
    std::ostringstream line;
    (line << ... << args);
    write(level, line.str());
  }
  template <typename... Args>
  void debug(const Args&... args) {
    log(LogLevel::debug, args...);
  }
  template <typename... Args>
  void info(const Args&... args) {
    log(LogLevel::info, args...);
  }
  template <typename... Args>
  void warn(const Args&... args) {
    log(LogLevel::warn, args...);
  }
  template <typename... Args>
  void error(const Args&... args) {
    log(LogLevel::error, args...);
  }

 private:
  void write(LogLevel level, std::string_view text);

  LogLevel min_level_;
  Sink sink_;
};

// Lets a burst of identical complaints (garbage on the wire, a flood) through at a bounded
// pace: the first `burst` events in each window are logged, the rest only counted and
// summarised when the next window opens. Without it a hostile peer could fill the disk.
class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LogLimiter(unsigned burst = 5, Clock::duration window = std::chrono::seconds(10))
      : burst_(burst), window_(window) {}

  // Returns true when this event may be logged; `suppressed` is set to how many events were
  // swallowed since the last logged one (to be mentioned in that line).
  bool allow(Clock::time_point now, unsigned long& suppressed);
  // Once the window of a burst has passed with events swallowed, returns their count (and
  // forgets it), so a summary is logged even when no later event comes; 0 otherwise.
  unsigned long take_suppressed(Clock::time_point now);

 private:
  unsigned burst_;
  Clock::duration window_;
  Clock::time_point window_start_{};
  unsigned in_window_ = 0;
  unsigned long suppressed_ = 0;
};

// Logs `what` as a warning if `limiter` allows it now, mentioning how many similar lines
// were suppressed since the last one. The one way refused input is reported.
void warn_limited(Logger& log, LogLimiter& limiter, const std::string& what);
// The same at any level (info for routine events an outside party can repeat at will,
// such as connection attempts).
void log_limited(Logger& log, LogLimiter& limiter, LogLevel level, const std::string& what);
// Logs "<kind>: N similar lines suppressed" when take_suppressed() has a count. Called
// from a periodic timer, so the count of a burst that ended is not lost.
void report_suppressed(Logger& log, LogLimiter& limiter, LogLevel level, const std::string& kind);

}  // namespace tund::util
