#include "tund/config/config_file.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "tund/config/cli.hpp"

namespace tund::config {
namespace {

using Kind = OptionSpec::Kind;
using namespace std::string_literals;

const std::vector<OptionSpec> kSpecs = {
    {"iface", Kind::value},       {"server", Kind::flag},     {"port", Kind::value},
    {"allow", Kind::key_or_path}, {"up", Kind::value},        {"debug", Kind::flag},
    {"private-key", Kind::path},  {"allow-file", Kind::path}, {"listen", Kind::value}};

std::vector<std::string> args_of(const std::string& text, const std::string& path = "t.conf") {
  return to_args(parse_config_text(text, path, kSpecs));
}

std::string message(const std::string& text) {
  try {
    parse_config_text(text, "t.conf", kSpecs);
  } catch (const ConfigFileError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ConfigFile, NameValueLinesBecomeArguments) {
  auto args = args_of(
      "# a comment\n\niface = tun3\nserver = yes\nport = 4000   # inline comment\n"
      "allow = KEY1\nallow = KEY2\ndebug = false\nup = \"NAT_IFACE=eth0 /x/up.sh # not a "
      "comment\"\n");
  EXPECT_EQ(args, (std::vector<std::string>{"--iface=tun3", "--server", "--port=4000",
                                            "--allow=KEY1", "--allow=KEY2",
                                            "--up=NAT_IFACE=eth0 /x/up.sh # not a comment"}));
}

TEST(ConfigFile, HashStartsACommentOnlyAfterWhitespaceOutsideQuotes) {
  // As in sh: '#' inside a word is part of it, even in a hook run as root.
  EXPECT_EQ(args_of("up = echo HOOK a#b\n"), (std::vector<std::string>{"--up=echo HOOK a#b"}));
  EXPECT_EQ(args_of("iface = tun#0\n"), (std::vector<std::string>{"--iface=tun#0"}));
  EXPECT_EQ(args_of("port = 0#c\n"), (std::vector<std::string>{"--port=0#c"}));
  EXPECT_EQ(args_of("port = 4000 #c\n"), (std::vector<std::string>{"--port=4000"}));
  EXPECT_EQ(args_of("port = 4000\t#c\n"), (std::vector<std::string>{"--port=4000"}));
  // A command's own quotes stay as written; '#' inside them is not a comment.
  EXPECT_EQ(args_of("up = echo \"a # b\"  # comment\n"),
            (std::vector<std::string>{"--up=echo \"a # b\""}));
  EXPECT_EQ(args_of("up = echo 'a # b' \"c\"\n"),
            (std::vector<std::string>{"--up=echo 'a # b' \"c\""}));
  EXPECT_EQ(args_of("up = \"/x/up.sh\" arg\n"),
            (std::vector<std::string>{"--up=\"/x/up.sh\" arg"}));
  EXPECT_EQ(args_of("up = echo a\\ #b\n"), (std::vector<std::string>{"--up=echo a\\ #b"}));
  // Only a value that is one quoted string is unquoted.
  EXPECT_EQ(args_of("up = 'a # b' # c\n"), (std::vector<std::string>{"--up=a # b"}));
  EXPECT_EQ(args_of("up = \"a\" \"b\"\n"), (std::vector<std::string>{"--up=\"a\" \"b\""}));
  EXPECT_EQ(message("up = echo \"a # b\n"), "t.conf line 1: unterminated quote");
  // Inside one double-quoted value, \" and \\ are a quote and a backslash, as in sh.
  EXPECT_EQ(args_of("up = \"echo \\\"x\\\" \\\\ \\n\"\n"),
            (std::vector<std::string>{"--up=echo \"x\" \\ \\n"}));
}

TEST(ConfigFile, EntriesKeepTheirLineNumbers) {
  auto entries = parse_config_text("# c\niface = tun3\n\nserver = on\n", "t.conf", kSpecs);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].line, 2);
  EXPECT_EQ(entries[1].line, 4);
  EXPECT_TRUE(entries[1].flag);
}

TEST(ConfigFile, ErrorsNameTheKeyAndTheLine) {
  EXPECT_EQ(message("iface = a\n\nfrobnicate = 1\n"), "t.conf line 3: unknown key 'frobnicate'");
  EXPECT_EQ(message("server\n"), "t.conf line 1: expected 'name = value'");
  EXPECT_EQ(message("server = maybe\n"), "t.conf line 1: expected true or false, got 'maybe'");
  EXPECT_EQ(message("iface =\n"), "t.conf line 1: 'iface' needs a value");
  EXPECT_EQ(message("up = \"unterminated\n"), "t.conf line 1: unterminated quote");
  EXPECT_EQ(message("config = other.conf\n"),
            "t.conf line 1: 'config' cannot be used inside a config file");
}

TEST(ConfigFile, WhatOtherFormatsWouldWriteIsNamed) {
  EXPECT_EQ(message("[tund]\niface = t\n"),
            "t.conf line 1: sections ([...]) are not used; expected 'name = value'");
  EXPECT_EQ(message("up = \xE2\x80\x9C/x/up.sh\xE2\x80\x9D\n"),
            "t.conf line 1: a typographic quote (\xE2\x80\x9C); quote with \" or '");
  EXPECT_EQ(message("Port = 1\n"), "t.conf line 1: unknown key 'Port' (did you mean 'port'?)");
  EXPECT_EQ(message("allow_file = x\n"),
            "t.conf line 1: unknown key 'allow_file' (did you mean 'allow-file'?)");
}

TEST(ConfigFile, MisspeltNamesGetAHint) {
  EXPECT_EQ(message("--port = 4000\n"), "t.conf line 1: write 'port' without dashes");
  EXPECT_EQ(message("listn = ::\n"), "t.conf line 1: unknown key 'listn' (did you mean 'listen'?)");
  EXPECT_EQ(message("listen-on = ::\n"), "t.conf line 1: unknown key 'listen-on'");
}

// What Notepad writes: a byte-order mark, CRLF line ends.
TEST(ConfigFile, LeadingByteOrderMarkAndCrlfAreIgnored) {
  EXPECT_EQ(args_of("\xEF\xBB\xBFserver = true\r\niface = tun3\r\n"),
            (std::vector<std::string>{"--server", "--iface=tun3"}));
  EXPECT_EQ(args_of("\xEF\xBB\xBF# comment first\r\niface = tun3\r\n"),
            (std::vector<std::string>{"--iface=tun3"}));
  EXPECT_EQ(args_of("\xEF\xBB\xBF"), std::vector<std::string>{});
}

TEST(ConfigFile, InvisibleAndNonTextBytesAreErrorsWithTheLine) {
  EXPECT_EQ(message("iface = a\n\xEF\xBB\xBFserver = true\n"),
            "t.conf line 2: an invisible character (U+FEFF byte-order mark) at column 1; retype "
            "the line");
  EXPECT_EQ(message("iface\xC2\xA0= tun3\n"),
            "t.conf line 1: an invisible character (U+00A0 no-break space) at column 6; retype "
            "the line");
  EXPECT_EQ(message("iface = tun3\xE2\x80\x8B\n"),
            "t.conf line 1: an invisible character (U+200B zero-width space) at column 13; "
            "retype the line");
  EXPECT_EQ(message("iface = a\nport = 4\0"
                    "000\n"s),
            "t.conf line 2: a NUL byte (not a text file? UTF-16 must be saved as UTF-8)");
  EXPECT_EQ(message("# caf\xE9\n"),
            "t.conf line 1: not valid UTF-8 at column 6 (save the file as UTF-8)");
  EXPECT_EQ(message("iface = \xC0\xAF\n"),  // an overlong '/'
            "t.conf line 1: not valid UTF-8 at column 9 (save the file as UTF-8)");
  EXPECT_EQ(message("iface = \xED\xA0\x80\n"),  // a UTF-16 surrogate
            "t.conf line 1: not valid UTF-8 at column 9 (save the file as UTF-8)");
  EXPECT_EQ(message("iface = a\x1b[0m\n"),
            "t.conf line 1: a control character (0x1B) at column 10");
  EXPECT_EQ(message("iface = a\rserver = true\r"),
            "t.conf line 1: a carriage return inside the line (save with LF line ends)");
  EXPECT_EQ(message("\xFF\xFEi\0f\0"s),
            "t.conf: UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8");
}

TEST(ConfigFile, Utf8TextIsFine) {
  EXPECT_EQ(args_of("# réseau du bureau: 東京 🚀\nup = \"echo café\"\niface = tun3\t# tab\n"),
            (std::vector<std::string>{"--up=echo café", "--iface=tun3"}));
}

TEST(ConfigFile, RelativePathsAreRelativeToTheFile) {
  std::string key = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ=";  // 44 characters
  auto args = args_of(
      "private-key = s.key\nallow-file = ../keys/allowed\nallow = c.pub\n"
      "allow = " +
          key + "\nallow = /abs/c.pub\nup = ./up.sh\n",
      "/etc/tund/office.conf");
  EXPECT_EQ(args,
            (std::vector<std::string>{
                "--private-key=/etc/tund/s.key", "--allow-file=/etc/tund/../keys/allowed",
                "--allow=/etc/tund/c.pub", "--allow=" + key, "--allow=/abs/c.pub", "--up=./up.sh"}))
      << "keys stay keys, absolute paths and shell commands stay as written";
  EXPECT_EQ(args_of("private-key = s.key\n", "conf/x.conf"),
            std::vector<std::string>{"--private-key=conf/s.key"});
  EXPECT_EQ(args_of("private-key = s.key\n", "x.conf"),
            std::vector<std::string>{"--private-key=s.key"})
      << "a file in the current directory: its paths are relative to it already";
}

TEST(ConfigFile, ReadingRefusesWhatIsNotAFile) {
  auto error = [](const std::string& path) {
    try {
      read_config_file(path, kSpecs);
    } catch (const ConfigFileError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("/tmp"), "config file /tmp is a directory, not a file");
  EXPECT_EQ(error("/dev/null"), "config file /dev/null is not a regular file");
  EXPECT_EQ(error("/nonexistent/x.conf"),
            "cannot read config file /nonexistent/x.conf: No such file or directory");
  std::string big = ::testing::TempDir() + "/tund-big.conf";
  std::ofstream(big) << std::string((1 << 20) + 1, '#');
  EXPECT_EQ(error(big), "config file " + big + " is larger than 1 MiB: not a config file?");
}

TEST(ConfigFile, CommandLineWinsOverTheFile) {
  std::string path = ::testing::TempDir() + "/tund-test.conf";
  std::ofstream(path) << "server = true\niface = tunfile\nport = 4000\nmtu = 1300\n";
  auto r = parse_command_line({"--config", path, "-p", "5000"});
  ASSERT_TRUE(std::holds_alternative<Config>(r)) << std::get<CliExit>(r).output;
  const Config& c = std::get<Config>(r);
  EXPECT_EQ(c.iface, "tunfile");
  EXPECT_EQ(c.port, 5000) << "the command line wins";
  EXPECT_EQ(c.mtu, 1300u);
  EXPECT_EQ(c.role, Role::server);
}

TEST(ConfigFile, UnknownKeyInARealFileIsAOneLineExitTwo) {
  std::string path = ::testing::TempDir() + "/tund-bad.conf";
  std::ofstream(path) << "server = true\niface = t\nlisten-on = 1.2.3.4\n";
  auto r = parse_command_line({"--config", path});
  ASSERT_TRUE(std::holds_alternative<CliExit>(r));
  EXPECT_EQ(std::get<CliExit>(r).status, 2);
  EXPECT_EQ(std::get<CliExit>(r).output,
            "tund: error: " + path + " line 3: unknown key 'listen-on'\n");
  auto missing = parse_command_line({"--config", "/nonexistent/tund.conf"});
  ASSERT_TRUE(std::holds_alternative<CliExit>(missing));
  EXPECT_NE(std::get<CliExit>(missing).output.find("cannot read config file"), std::string::npos);
}

TEST(ConfigFile, ExampleConfigsParse) {
  // The examples as installed: configured from examples/*.conf.in into the build tree.
  for (const char* name : {"server.conf", "client.conf"}) {
    auto r = parse_command_line({"--config", std::string(TUND_BINARY_DIR) + "/examples/" + name});
    ASSERT_TRUE(std::holds_alternative<Config>(r)) << name << ": " << std::get<CliExit>(r).output;
    EXPECT_FALSE(std::get<Config>(r).addresses.empty()) << name;
  }
}

}  // namespace
}  // namespace tund::config

namespace tund::config {
namespace {

// A relative control-socket in a config file is relative to the file's directory, like
// every other path in it (tund.conf(5)); metrics-listen errors name the line.
TEST(ConfigFile, StatusKeys) {
  std::string dir = ::testing::TempDir();
  if (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::string path = dir + "/tund-status.conf";
  std::ofstream(path) << "server = true\niface = t1\ncontrol-socket = run/t1.sock\n"
                         "control-group = users\nmetrics-listen = 127.0.0.1:9586\n";
  auto r = parse_command_line({"--config", path});
  ASSERT_TRUE(std::holds_alternative<Config>(r)) << std::get<CliExit>(r).output;
  const Config& c = std::get<Config>(r);
  EXPECT_EQ(c.control_socket, dir + "/run/t1.sock");
  EXPECT_EQ(c.control_group, "users");
  EXPECT_EQ(c.metrics_port, 9586);
  std::ofstream(path) << "server = true\niface = t1\nmetrics-listen = 127.0.0.1\n";
  auto bad = parse_command_line({"--config", path});
  ASSERT_TRUE(std::holds_alternative<CliExit>(bad));
  EXPECT_EQ(std::get<CliExit>(bad).output,
            "tund: error: " + path +
                " line 3: --metrics-listen: '127.0.0.1' has no port (give ADDR:PORT, e.g. "
                "127.0.0.1:9586)\n");
}

}  // namespace
}  // namespace tund::config
