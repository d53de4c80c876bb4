#include "tund/util/log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <string>
#include <vector>

namespace tund::util {
namespace {

TEST(Logger, FiltersByLevelAndFormatsArguments) {
  std::vector<std::string> lines;
  Logger log(LogLevel::info, [&](LogLevel, std::string_view t) { lines.emplace_back(t); });
  log.debug("hidden");
  log.info("port ", 55555, " up");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "port 55555 up");
}

TEST(LogLimiter, AllowsABurstPerWindowAndCountsTheRest) {
  LogLimiter limiter(3, std::chrono::seconds(10));
  auto t0 = LogLimiter::Clock::time_point{} + std::chrono::hours(1);
  unsigned long suppressed = 0;
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limiter.allow(t0, suppressed);
  EXPECT_EQ(allowed, 3);
  EXPECT_TRUE(limiter.allow(t0 + std::chrono::seconds(11), suppressed));
  EXPECT_EQ(suppressed, 97u);
}

using std::chrono::system_clock;

// 2026-11-30T16:55:02.123Z
system_clock::time_point sample_time() {
  return system_clock::time_point(std::chrono::seconds(1796057702)) +
         std::chrono::milliseconds(123);
}

TEST(LogFormat, PlainLinesCarryAnRfc3339UtcTimestampWithTheDate) {
  EXPECT_EQ(format_log_lines(LogStyle::plain, LogLevel::info, "listening", sample_time()),
            "2026-11-30T16:55:02.123Z tund info: listening\n");
  EXPECT_EQ(format_log_lines(LogStyle::plain, LogLevel::warn, "w", sample_time()),
            "2026-11-30T16:55:02.123Z tund warn: w\n");
  // Milliseconds are zero-padded, and the epoch itself formats.
  EXPECT_EQ(format_log_lines(LogStyle::plain, LogLevel::error, "e",
                             system_clock::time_point() + std::chrono::milliseconds(7)),
            "1970-01-01T00:00:00.007Z tund error: e\n");
}

TEST(LogFormat, JournalLinesCarryThePriorityPrefixAndNoTimestamp) {
  auto now = sample_time();
  EXPECT_EQ(format_log_lines(LogStyle::journal, LogLevel::error, "x", now), "<3>error: x\n");
  EXPECT_EQ(format_log_lines(LogStyle::journal, LogLevel::warn, "x", now), "<4>warn: x\n");
  EXPECT_EQ(format_log_lines(LogStyle::journal, LogLevel::info, "x", now), "<6>info: x\n");
  EXPECT_EQ(format_log_lines(LogStyle::journal, LogLevel::debug, "x", now), "<7>debug: x\n");
}

TEST(LogFormat, EveryLineOfAMultiLineMessageGetsThePrefix) {
  auto now = sample_time();
  EXPECT_EQ(format_log_lines(LogStyle::journal, LogLevel::warn, "one\ntwo\n\nfour", now),
            "<4>warn: one\n<4>warn: two\n<4>warn: \n<4>warn: four\n");
  EXPECT_EQ(format_log_lines(LogStyle::journal, LogLevel::info, "ends in newline\n", now),
            "<6>info: ends in newline\n");
  EXPECT_EQ(format_log_lines(LogStyle::journal, LogLevel::info, "", now), "<6>info: \n");
  EXPECT_EQ(format_log_lines(LogStyle::plain, LogLevel::error, "a\nb", now),
            "2026-11-30T16:55:02.123Z tund error: a\n2026-11-30T16:55:02.123Z tund error: b\n");
}

TEST(LogFormat, ControlCharactersAreEscapedNotWritten) {
  // A NUL would end a journal entry; CR and ESC garble a terminal. Tab and UTF-8 stay.
  std::string text("a\rb\x1b[2Jc\td\x7f");
  text += '\0';
  text += "\xc3\xa9";
  EXPECT_EQ(format_log_lines(LogStyle::journal, LogLevel::info, text, sample_time()),
            "<6>info: a\\x0db\\x1b[2Jc\td\\x7f\\x00\xc3\xa9\n");
}

// journald stores a line with invalid UTF-8 or a control character as a blob, which
// journalctl hides ("[... blob data]"): each such byte becomes \xNN, valid UTF-8 stays.
TEST(LogFormat, BytesThatAreNotValidUtf8AreEscaped) {
  auto line = [](std::string_view text) {
    std::string out = format_stderr_lines(LogStyle::plain, LogLevel::info, text);
    return out.substr(0, out.size() - 1);
  };
  EXPECT_EQ(line("tun\xff"), "tun\\xff");
  EXPECT_EQ(line("\xfe\xc0\xc1\xf5\xf8"), "\\xfe\\xc0\\xc1\\xf5\\xf8") << "never in UTF-8";
  // Valid: 2, 3 and 4 bytes, the lowest and highest of each length.
  for (const char* ok :
       {"\xc3\xa9", "\xc2\xa0", "\xdf\xbf", "\xe0\xa0\x80", "\xe2\x82\xac", "\xef\xbf\xbd",
        "\xed\x9f\xbf", "\xf0\x90\x80\x80", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"})
    EXPECT_EQ(line(ok), ok);
  EXPECT_EQ(line("\xc3"), "\\xc3") << "truncated at the end";
  EXPECT_EQ(line("\xe2\x82x"), "\\xe2\\x82x") << "truncated before ASCII";
  EXPECT_EQ(line("\xc3\xc3\xa9"), "\\xc3\xc3\xa9") << "a lead byte, then a valid character";
  EXPECT_EQ(line("\x80\xbf"), "\\x80\\xbf") << "lone continuation bytes";
  EXPECT_EQ(line("\xc0\xaf"), "\\xc0\\xaf") << "overlong '/'";
  EXPECT_EQ(line("\xe0\x80\xaf"), "\\xe0\\x80\\xaf") << "overlong, 3 bytes";
  EXPECT_EQ(line("\xf0\x80\x80\xaf"), "\\xf0\\x80\\x80\\xaf") << "overlong, 4 bytes";
  EXPECT_EQ(line("\xed\xa0\x80"), "\\xed\\xa0\\x80") << "a UTF-16 surrogate";
  EXPECT_EQ(line("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80") << "above U+10FFFF";
  EXPECT_EQ(line("\xc2\x9b"
                 "1m"),
            "\\xc2\\x9b"
            "1m")
      << "a C1 control (CSI)";
}

TEST(WriteAll, ReportsTheErrnoOfAFailedWrite) {
  int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(full, 0);
  EXPECT_EQ(write_all(full, "key\n"), ENOSPC);
  EXPECT_EQ(write_all(full, ""), 0) << "nothing to write";
  ::close(full);
  EXPECT_EQ(write_all(full, "key\n"), EBADF) << "a closed descriptor";
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  EXPECT_EQ(write_all(fds[1], "key\n"), 0);
  char buf[8] = {};
  EXPECT_EQ(::read(fds[0], buf, sizeof buf), 4);
  EXPECT_STREQ(buf, "key\n");
  ::close(fds[0]);
  auto old = std::signal(SIGPIPE, SIG_IGN);
  EXPECT_EQ(write_all(fds[1], "key\n"), EPIPE) << "the reader is gone";
  std::signal(SIGPIPE, old);
  ::close(fds[1]);
}

// In a child: with 1 and 2 closed, the next open() would become descriptor 1.
TEST(ReserveStandardDescriptors, ClosedOnesBecomeDevNull) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(STDOUT_FILENO);
    ::close(STDERR_FILENO);
    if (!reserve_standard_descriptors()) ::_exit(1);
    struct stat null_st {
    }, st{};
    if (::stat("/dev/null", &null_st) != 0) ::_exit(2);
    for (int fd : {1, 2})
      if (::fstat(fd, &st) != 0 || st.st_rdev != null_st.st_rdev) ::_exit(3);
    int next = ::open("/dev/null", O_RDONLY);
    ::_exit(next > STDERR_FILENO ? 0 : 4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(reserve_standard_descriptors()) << "all open: nothing to do";
}

TEST(LogFormat, TextOutsideTheLoggerKeepsItsFormAndGetsPriorityForTheJournal) {
  EXPECT_EQ(format_stderr_lines(LogStyle::plain, LogLevel::error, "tund: error: port in use\n"),
            "tund: error: port in use\n");
  EXPECT_EQ(format_stderr_lines(LogStyle::journal, LogLevel::error, "tund: error: x\nUsage: y"),
            "<3>tund: error: x\n<3>Usage: y\n");
  EXPECT_EQ(format_stderr_lines(LogStyle::journal, LogLevel::warn, "tund: warning: z"),
            "<4>tund: warning: z\n");
}

TEST(JournalStream, MatchesOnlyTheDeviceAndInodeOfStderr) {
  EXPECT_TRUE(journal_stream_matches("8:1234", 8, 1234));
  EXPECT_TRUE(journal_stream_matches("18446744073709551615:0", UINT64_MAX, 0));
  EXPECT_FALSE(journal_stream_matches(nullptr, 8, 1234)) << "not under systemd";
  EXPECT_FALSE(journal_stream_matches("8:1235", 8, 1234)) << "another file";
  EXPECT_FALSE(journal_stream_matches("9:1234", 8, 1234)) << "another device";
  EXPECT_FALSE(journal_stream_matches("1234:8", 8, 1234)) << "swapped";
}

TEST(JournalStream, GarbageNeverMatches) {
  for (const char* bad :
       {"", ":", "8", "8:", ":1234", "8:1234:", "8:1234x", " 8:1234", "8: 1234", "+8:1234",
        "-8:1234", "0x8:1234", "8;1234", "8:1234\n", "18446744073709551616:1234", "garbage"})
    EXPECT_FALSE(journal_stream_matches(bad, 8, 1234)) << "'" << bad << "'";
}

}  // namespace
}  // namespace tund::util
