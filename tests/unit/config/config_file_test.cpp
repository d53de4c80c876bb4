#include "tund/config/config_file.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "tund/config/cli.hpp"

namespace tund::config {
namespace {

const std::vector<OptionSpec> kSpecs = {{"iface", false}, {"server", true}, {"port", false},
                                        {"allow", false}, {"up", false},    {"debug", true}};

TEST(ConfigFile, NameValueLinesBecomeArguments) {
  auto args = config_to_args(
      "# a comment\n\niface = tun3\nserver = yes\nport = 4000   # inline comment\n"
      "allow = KEY1\nallow = KEY2\ndebug = false\nup = \"NAT_IFACE=eth0 /x/up.sh # not a "
      "comment\"\n",
      "t.conf", kSpecs);
  EXPECT_EQ(args, (std::vector<std::string>{"--iface", "tun3", "--server", "--port", "4000",
                                            "--allow", "KEY1", "--allow", "KEY2", "--up",
                                            "NAT_IFACE=eth0 /x/up.sh # not a comment"}));
}

TEST(ConfigFile, ErrorsNameTheKeyAndTheLine) {
  auto message = [](const std::string& text) {
    try {
      config_to_args(text, "t.conf", kSpecs);
    } catch (const ConfigFileError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("iface = a\n\nfrobnicate = 1\n"), "t.conf line 3: unknown key 'frobnicate'");
  EXPECT_EQ(message("server\n"), "t.conf line 1: expected 'name = value'");
  EXPECT_EQ(message("server = maybe\n"), "t.conf line 1: expected true or false, got 'maybe'");
  EXPECT_EQ(message("iface =\n"), "t.conf line 1: 'iface' needs a value");
  EXPECT_EQ(message("up = \"unterminated\n"), "t.conf line 1: unterminated quote");
  EXPECT_EQ(message("config = other.conf\n"), "t.conf line 1: unknown key 'config'");
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
    EXPECT_FALSE(std::get<Config>(r).address.empty()) << name;
  }
}

}  // namespace
}  // namespace tund::config
