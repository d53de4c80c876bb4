// One log line per event on stderr. Components receive a Logger& instead of reaching for
// a global, so tests can capture output and two engines in one process keep apart.
//
// Two line formats, chosen once per process (stderr_log_style()):
//   for people:   "2026-11-30T16:55:02.123Z tund warn: text"  (RFC 3339, UTC, milliseconds)
//   for journald: "<4>warn: text"  (sd-daemon(3) priority prefix: <3> error, <4> warn,
//                 <6> info, <7> debug; no timestamp, the journal stamps each line itself)
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace tund::util {

enum class LogLevel { debug, info, warn, error };

enum class LogStyle { plain, journal };

// True when `journal_stream` (the JOURNAL_STREAM variable, "<st_dev>:<st_ino>" in decimal,
// which systemd sets when stdout/stderr go to the journal: systemd.exec(5)) names the file
// whose fstat(2) gave `dev` and `ino`. Null, malformed (signs, spaces, trailing text,
// overflow) or naming another file: false. The check against the actual descriptor matters:
// a service's child with stderr redirected elsewhere still inherits the variable.
bool journal_stream_matches(const char* journal_stream, std::uint64_t dev, std::uint64_t ino);

// The style for stderr: journal when JOURNAL_STREAM matches fstat(2) of descriptor 2.
// Decided at the first call and then fixed for the process.
LogStyle stderr_log_style();

// The text written for one event: each line of `text` becomes a full line with the style's
// prefix and a trailing '\n', so a newline inside a message never starts a line without a
// priority (journald reads one entry per line) or timestamp. A trailing newline adds no
// empty line. Other control characters (a NUL ends a journal line too; CR and escapes
// garble terminals; C1 controls U+0080-U+009F) and every byte that is not part of
// well-formed UTF-8 (RFC 3629: a raw 0xff from `-i $'tun\xff'`, overlongs, surrogates,
// truncated sequences) are written as \xNN, so that journald stores the line as text, not
// as a blob; valid multi-byte UTF-8 stays as it is. `now` is used by the plain style only.
std::string format_log_lines(LogStyle style, LogLevel level, std::string_view text,
                             std::chrono::system_clock::time_point now);

// Text written to stderr outside the Logger: command-line and config errors, usage, and
// start-up failures ("tund: error: <text>"), in the form users know from a terminal. For
// the journal each line gets `level`'s priority prefix, so that `journalctl -p err` shows
// why a service did not start. Lines are split and escaped as in format_log_lines().
std::string format_stderr_lines(LogStyle style, LogLevel level, std::string_view text);
void print_stderr(LogLevel level, std::string_view text);
// print_stderr(LogLevel::error, "tund: error: <text>").
void print_error(std::string_view text);

// Writes all of `text` to descriptor `fd`, retrying short writes and EINTR. Returns 0, or
// the errno of the write that failed: ENOSPC (a full disk, /dev/full), EBADF (a closed
// descriptor, `tund genkey >&-`), EPIPE (a closed pipe, when SIGPIPE is ignored), EIO...
int write_all(int fd, std::string_view text);
// The result of a one-shot command (a key, the help text) on standard output, then the
// descriptor closed so that an error only reported at close(2) (NFS, a full disk with
// delayed allocation) is seen too; a regular file is fsync(2)ed first. Output that is lost
// must not end in status 0 with an empty or truncated file: on any failure prints
// "tund: error: cannot write <what> to standard output: <strerror(errno)>" (print_error)
// and returns false. Call it once, as the command's last output.
bool print_stdout(std::string_view text, std::string_view what);
// For the daemon (not the key commands, whose closed stdout is an error): opens /dev/null
// on each of descriptors 0, 1, 2 that is closed (`tund ... 2>&-`, a careless service
// manager), so that the next socket or device cannot become descriptor 2 and receive the
// log lines. Call first thing, before anything is opened. False if /dev/null cannot be
// opened (then nothing can be done about it).
bool reserve_standard_descriptors();

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
// The same, building the line only when it will be logged: refused input can arrive at
// line rate, and nothing is formatted for what the limiter swallows.
template <std::invocable MakeText>
void warn_limited(Logger& log, LogLimiter& limiter, MakeText&& make_text) {
  unsigned long suppressed = 0;
  if (!limiter.allow(LogLimiter::Clock::now(), suppressed)) return;
  log.log(LogLevel::warn, make_text(),
          suppressed ? " (" + std::to_string(suppressed) + " similar suppressed)" : "");
}
// The same at any level (info for routine events an outside party can repeat at will,
// such as connection attempts).
void log_limited(Logger& log, LogLimiter& limiter, LogLevel level, const std::string& what);
// Logs "<kind>: N similar lines suppressed" when take_suppressed() has a count. Called
// from a periodic timer, so the count of a burst that ended is not lost.
void report_suppressed(Logger& log, LogLimiter& limiter, LogLevel level, const std::string& kind);

}  // namespace tund::util
