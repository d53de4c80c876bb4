#include "tund/util/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>

#include "tund/util/strings.hpp"

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

// sd-daemon(3) / syslog(3) priorities: LOG_ERR 3, LOG_WARNING 4, LOG_INFO 6, LOG_DEBUG 7.
const char* journal_prefix(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "<7>";
    case LogLevel::info:
      return "<6>";
    case LogLevel::warn:
      return "<4>";
    case LogLevel::error:
      return "<3>";
  }
  return "<6>";
}

// "2026-11-30T16:55:02.123Z": RFC 3339 in UTC, so lines from both ends of a tunnel (and
// from different days) line up without knowing either host's time zone.
std::string rfc3339_utc(std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  auto whole = floor<seconds>(now);
  auto millis = static_cast<int>(duration_cast<milliseconds>(now - whole).count());
  std::time_t secs = system_clock::to_time_t(whole);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char stamp[40];
  std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", millis);
  return stamp;
}

void append_hex(std::string& out, unsigned char byte) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[byte >> 4];
  out += kHex[byte & 0xf];
}

// The length of the well-formed UTF-8 sequence (RFC 3629, Table 3-7 of the Unicode
// standard: no overlong forms, no surrogates, nothing above U+10FFFF) at the start of
// `s`, or 0. Control characters (C0, DEL, C1 U+0080-U+009F) count as 0 too: journald
// stores a line with any of them, or with invalid UTF-8, as a blob that journalctl hides.
std::size_t printable_utf8_length(std::string_view s) {
  auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return (b0 >= 0x20 && b0 != 0x7f) || b0 == '\t' ? 1 : 0;
  if (b0 == 0xc2 && s.size() > 1 && static_cast<unsigned char>(s[1]) <= 0x9f) return 0;  // C1
  return utf8_sequence_length(s, 0);
}

// Appends `line` (no newline in it) with every byte that is not part of a printable UTF-8
// character (controls other than tab, invalid or truncated sequences) as \xNN.
void append_escaped(std::string& out, std::string_view line) {
  while (!line.empty()) {
    std::size_t n = printable_utf8_length(line);
    if (n == 0) {
      append_hex(out, static_cast<unsigned char>(line[0]));
      n = 1;
    } else {
      out += line.substr(0, n);
    }
    line.remove_prefix(n);
  }
}

// Every line of `text` as `prefix` + line + '\n'; a trailing newline adds no empty line.
std::string prefix_each_line(std::string_view prefix, std::string_view text) {
  std::string out;
  out.reserve(prefix.size() + text.size() + 1);
  std::size_t start = 0;
  do {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    out += prefix;
    append_escaped(out, text.substr(start, end - start));
    out += '\n';
    start = end + 1;
  } while (start < text.size());
  return out;
}

// One write for the whole event, so lines of concurrent writers (a hook's output) cannot
// land inside it.
void write_text(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

LogStyle detect_stderr_style() {
  struct stat st {};
  if (fstat(2, &st) != 0) return LogStyle::plain;
  bool journal =
      journal_stream_matches(std::getenv("JOURNAL_STREAM"), static_cast<std::uint64_t>(st.st_dev),
                             static_cast<std::uint64_t>(st.st_ino));
  return journal ? LogStyle::journal : LogStyle::plain;
}

Logger::Sink stderr_sink() {
  LogStyle style = stderr_log_style();
  return [style](LogLevel level, std::string_view text) {
    write_text(format_log_lines(style, level, text, std::chrono::system_clock::now()));
  };
}

}  // namespace

bool journal_stream_matches(const char* journal_stream, std::uint64_t dev, std::uint64_t ino) {
  if (journal_stream == nullptr) return false;
  std::string_view value(journal_stream);
  std::size_t colon = value.find(':');
  if (colon == std::string_view::npos) return false;
  // from_chars accepts no sign, space or base prefix: only what systemd writes.
  auto parse = [](std::string_view digits, std::uint64_t& number) {
    const char* end = digits.data() + digits.size();
    auto [ptr, ec] = std::from_chars(digits.data(), end, number);
    return !digits.empty() && ec == std::errc() && ptr == end;
  };
  std::uint64_t want_dev = 0, want_ino = 0;
  return parse(value.substr(0, colon), want_dev) && parse(value.substr(colon + 1), want_ino) &&
         want_dev == dev && want_ino == ino;
}

LogStyle stderr_log_style() {
  static const LogStyle style = detect_stderr_style();
  return style;
}

std::string format_log_lines(LogStyle style, LogLevel level, std::string_view text,
                             std::chrono::system_clock::time_point now) {
  std::string prefix = style == LogStyle::journal
                           ? std::string(journal_prefix(level)) + level_name(level) + ": "
                           : rfc3339_utc(now) + " tund " + level_name(level) + ": ";
  return prefix_each_line(prefix, text);
}

std::string format_stderr_lines(LogStyle style, LogLevel level, std::string_view text) {
  return prefix_each_line(style == LogStyle::journal ? journal_prefix(level) : "", text);
}

void print_stderr(LogLevel level, std::string_view text) {
  write_text(format_stderr_lines(stderr_log_style(), level, text));
}

void print_error(std::string_view text) {
  print_stderr(LogLevel::error, "tund: error: " + std::string(text));
}

int write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;  // no progress and no error: do not spin
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

namespace {

// fsync(2) for a regular file (its data on disk before status 0), close(2) for all: both
// may report a write that failed after write(2) returned. 0 or the errno.
int finish_stdout() {
  struct stat st {};
  if (fstat(STDOUT_FILENO, &st) != 0) return errno;
  if (S_ISREG(st.st_mode) && fsync(STDOUT_FILENO) != 0 && errno != EINVAL) return errno;
  // EINTR: the descriptor is closed anyway on Linux (close(2)); not a lost write.
  if (::close(STDOUT_FILENO) != 0 && errno != EINTR) return errno;
  return 0;
}

}  // namespace

bool print_stdout(std::string_view text, std::string_view what) {
  int err = write_all(STDOUT_FILENO, text);
  if (err == 0) err = finish_stdout();
  if (err == 0) return true;
  print_error("cannot write " + std::string(what) + " to standard output: " + std::strerror(err));
  return false;
}

bool reserve_standard_descriptors() {
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    // The lowest free descriptor is `fd` itself: the lower ones are open by now.
    int opened = ::open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
    if (opened < 0) return false;
    if (opened != fd) {  // cannot happen (see above); do not leak it
      ::close(opened);
      return false;
    }
  }
  return true;
}

Logger::Logger(LogLevel min_level, Sink sink)
    : min_level_(min_level), sink_(sink ? std::move(sink) : stderr_sink()) {}

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
