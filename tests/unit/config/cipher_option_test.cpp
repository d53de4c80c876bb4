// --cipher auto|aes-256-gcm|chacha20-poly1305 and the config file's `cipher`: the values,
// the default, the errors (a word it does not know, no encryption), the command line
// winning over the file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "tund/config/cli.hpp"

namespace tund::config {
namespace {

class CipherOption : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/tund-cipher-" + std::to_string(::getpid());
    ::mkdir(dir_.c_str(), 0700);
    key_ = write("s.key", "x\n");  // read as a key only at start-up, not by the parser
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), 0600);
    return path;
  }
  // An encrypted server's command line, plus `extra`.
  std::vector<std::string> server(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"-s", "-i", "tun3", "--private-key", key_, "--allow", kPub};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  static constexpr const char* kPub = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ=";
  std::string dir_, key_;
};

Config parse_ok(const std::vector<std::string>& args) {
  auto r = parse_command_line(args);
  if (auto* exit = std::get_if<CliExit>(&r)) ADD_FAILURE() << exit->output;
  return std::get_if<Config>(&r) ? std::get<Config>(r) : Config{};
}

// The one-line error after "tund: error: " (status 2).
std::string error_of(const std::vector<std::string>& args) {
  auto r = parse_command_line(args);
  if (!std::holds_alternative<CliExit>(r)) return "(parsed)";
  const CliExit& e = std::get<CliExit>(r);
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_EQ(std::count(e.output.begin(), e.output.end(), '\n'), 1) << e.output;
  EXPECT_EQ(e.output.rfind("tund: error: ", 0), 0u) << e.output;
  return e.output.substr(13, e.output.size() - 14);
}

TEST_F(CipherOption, AutoByDefault) {
  EXPECT_EQ(parse_ok(server()).cipher, Cipher::automatic);
  EXPECT_EQ(parse_ok({"-s", "-i", "tun3"}).cipher, Cipher::automatic) << "plaintext too";
}

TEST_F(CipherOption, EachValue) {
  EXPECT_EQ(parse_ok(server({"--cipher", "auto"})).cipher, Cipher::automatic);
  EXPECT_EQ(parse_ok(server({"--cipher", "aes-256-gcm"})).cipher, Cipher::aes256gcm);
  EXPECT_EQ(parse_ok(server({"--cipher=chacha20-poly1305"})).cipher, Cipher::chacha20poly1305);
  EXPECT_EQ(parse_ok(server({"--cipher", "aes-256-gcm", "--cipher", "auto"})).cipher,
            Cipher::automatic)
      << "the last value, as for every single-valued option";
}

TEST_F(CipherOption, UnknownValuesAreOneLineErrors) {
  EXPECT_EQ(error_of(server({"--cipher", "aes"})),
            "--cipher: 'aes' (expected auto or aes-256-gcm or chacha20-poly1305) (see tund "
            "--help)");
  EXPECT_EQ(error_of(server({"--cipher", "AES-256-GCM"})).rfind("--cipher: 'AES-256-GCM'", 0), 0u);
  EXPECT_EQ(error_of(server({"--cipher", ""})),
            "--cipher: an empty value (expected auto or aes-256-gcm or chacha20-poly1305) (see "
            "tund --help)");
}

TEST_F(CipherOption, NeedsEncryption) {
  EXPECT_EQ(error_of({"-s", "-i", "tun3", "--cipher", "chacha20-poly1305"}),
            "--cipher needs --private-key (it picks the encryption's cipher) (see tund --help)");
  std::string conf = write("plain.conf", "server = true\niface = tun3\ncipher = auto\n");
  EXPECT_EQ(error_of({"--config", conf}),
            conf + " line 3: --cipher needs --private-key (it picks the encryption's cipher)");
}

TEST_F(CipherOption, FromTheConfigFileAndOverriddenByTheCommandLine) {
  std::string conf = write("t.conf", std::string("server = true\niface = tun3\nprivate-key = ") +
                                         key_ + "\nallow = " + kPub + "\ncipher = aes-256-gcm\n");
  Config c = parse_ok({"--config", conf});
  EXPECT_EQ(c.cipher, Cipher::aes256gcm);
  EXPECT_EQ(c.sources.prefix("cipher"), conf + " line 5: ");
  EXPECT_EQ(parse_ok({"--config", conf, "--cipher", "chacha20-poly1305"}).cipher,
            Cipher::chacha20poly1305);
  std::string bad = write("bad.conf", "server = true\niface = tun3\ncipher = rc4\n");
  EXPECT_EQ(error_of({"--config", bad}),
            bad + " line 3: --cipher: 'rc4' (expected auto or aes-256-gcm or chacha20-poly1305)");
}

}  // namespace
}  // namespace tund::config
