// The command line and a config file together: file:line for every error about a value
// from the file, the command line winning (the mode included), HOST:PORT, files that are
// not files, and warnings for options that do nothing.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "tund/config/cli.hpp"

namespace tund::config {
namespace {

class ConfigErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/tund-cfg-" + std::to_string(::getpid());
    ::mkdir(dir_.c_str(), 0700);
  }
  // Writes `text` to DIR/name and returns the path.
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), 0600);
    return path;
  }
  std::string conf(const std::string& text) { return write("t.conf", text); }
  std::string dir_;
};

Config parse_ok(const std::vector<std::string>& args) {
  auto r = parse_command_line(args);
  if (auto* exit = std::get_if<CliExit>(&r)) ADD_FAILURE() << exit->output;
  return std::get_if<Config>(&r) ? std::get<Config>(r) : Config{};
}

// The one-line error text after "tund: error: ", checking the status and the line count.
std::string error_of(const std::vector<std::string>& args) {
  auto r = parse_command_line(args);
  if (!std::holds_alternative<CliExit>(r)) {
    ADD_FAILURE() << "parsed";
    return "";
  }
  const CliExit& e = std::get<CliExit>(r);
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_EQ(std::count(e.output.begin(), e.output.end(), '\n'), 1) << e.output;
  EXPECT_EQ(e.output.rfind("tund: error: ", 0), 0u) << e.output;
  return e.output.substr(13, e.output.size() - 14);
}

const std::string kBase = "server = true\niface = tun3\n";

TEST_F(ConfigErrors, ValueErrorsFromTheFileNameFileAndLine) {
  struct Case {
    std::string line, expected;
  } cases[] = {
      {"port = 99999", "line 3: --port: 99999 is out of range (1-65535)"},
      {"port = 0", "line 3: --port: 0 is out of range (1-65535)"},
      {"transport = UDP", "line 3: --transport: 'UDP' (expected tcp or udp)"},
      {"mtu = x", "line 3: --mtu: 'x' is not a number (576-9000)"},
      {"mtu = 100", "line 3: --mtu: 100 is out of range (576-9000)"},
      {"keepalive = 0", "line 3: --keepalive: 0 is out of range (1-3600)"},
      {"max-pending = -1", "line 3: --max-pending: '-1' is not a number (1-4096)"},
      {"address = 10.0.0.1/33", "line 3: --address: bad prefix length in '10.0.0.1/33'"},
      {"address = nope", "line 3: --address: 'nope' is not an IPv4 or IPv6 address"},
      {"link-ip = 10.0.0", "line 3: --link-ip: '10.0.0' is not an IPv4 or IPv6 address"},
      {"listen = nope", "line 3: --listen: 'nope' is not an IPv4 or IPv6 address"},
      {"listen = 198.18.0.1:0", "line 3: --listen: bad port '0' in '198.18.0.1:0' (1-65535)"},
      {"group = users", "line 3: --group goes with --user"},
      {"psk = k.psk", "line 3: --peer-key, --allow, --allow-file and --psk need --private-key"},
  };
  for (const Case& c : cases) {
    std::string path = conf(kBase + c.line + "\n");
    EXPECT_EQ(error_of({"--config", path}).rfind(path + " " + c.expected, 0), 0u)
        << c.line << " -> " << error_of({"--config", path});
  }
  std::string path = conf("iface = a b\nserver = true\n");
  EXPECT_EQ(error_of({"--config", path}),
            path + " line 1: --iface: 'a b': an interface name cannot contain whitespace");
  path = conf("server = true\niface = tap0\nlink-mac = 01:00:5e:00:00:01\ntap = yes\n");
  EXPECT_EQ(error_of({"--config", path}),
            path +
                " line 3: --link-mac: '01:00:5e:00:00:01' is a multicast MAC; the link needs a "
                "unicast one");
  path = conf("connect = 198.18.0.1\niface = t\naddress = fd00::1/64\npeer = 10.0.0.2\n");
  EXPECT_EQ(error_of({"--config", path}),
            path +
                " line 4: --peer 10.0.0.2 is IPv4 but no --address is (a --peer pairs with the "
                "first --address of its family)");
}

TEST_F(ConfigErrors, CommandLineErrorsKeepTheirForm) {
  std::string path = conf(kBase);
  EXPECT_EQ(error_of({"--config", path, "-p", "99999"}),
            "--port: 99999 is out of range (1-65535) (see tund --help)");
  EXPECT_EQ(error_of({"--config", path, "--address", "nope"}),
            "--address: 'nope' is not an IPv4 or IPv6 address (see tund --help)");
  // The file's value is replaced: its own error does not matter then... unless it is bad in
  // itself, which is reported whatever the command line says.
  path = conf(kBase + "port = 99999\n");
  EXPECT_EQ(error_of({"--config", path, "-p", "4000"}),
            path + " line 3: --port: 99999 is out of range (1-65535)");
}

TEST_F(ConfigErrors, TheCommandLineWinsTheModeIncluded) {
  std::string server = conf("server = true\niface = tunfile\ntap = true\n");
  Config c = parse_ok({"--config", server, "-c", "198.18.0.1"});
  EXPECT_EQ(c.role, Role::client);
  EXPECT_EQ(c.remote_host, "198.18.0.1");
  EXPECT_EQ(c.device, DeviceKind::tap);
  EXPECT_EQ(parse_ok({"--config", server, "-u"}).device, DeviceKind::tun);
  std::string client = conf("connect = 198.18.0.1\niface = tunfile\n");
  EXPECT_EQ(parse_ok({"--config", client, "-s"}).role, Role::server);
  EXPECT_EQ(parse_ok({"--config", client, "-a"}).device, DeviceKind::tap);
  EXPECT_EQ(parse_ok({"--config", client, "--debug=false"}).debug, false);
  // Within one place, both are an error.
  EXPECT_EQ(error_of({"--config", client, "-s", "-c", "h"}),
            "--server excludes --connect (give -s or -c HOST) (see tund --help)");
  std::string both = conf("server = true\niface = t\nconnect = h\n");
  EXPECT_EQ(error_of({"--config", both}),
            both + " line 3: 'connect' conflicts with 'server' on line 1 (one of them)");
  EXPECT_EQ(error_of({"--config", both, "-c", "h2"}),
            both + " line 3: 'connect' conflicts with 'server' on line 1 (one of them)");
  std::string taps = conf("server = true\niface = t\ntun = yes\ntap = yes\n");
  EXPECT_EQ(error_of({"--config", taps}),
            taps + " line 4: 'tap' conflicts with 'tun' on line 3 (one of them)");
}

TEST_F(ConfigErrors, RepeatableOptionsAddToTheFile) {
  std::string k1 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ=";
  std::string k2 = "bbcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ=";
  std::string key = write("s.key", "x\n");
  std::string path = conf(kBase + "private-key = s.key\nallow = " + k1 + "\n");
  Config c = parse_ok({"--config", path, "--allow", k2});
  EXPECT_EQ(c.allow, (std::vector<std::string>{k1, k2}));
  EXPECT_EQ(c.sources.prefix("allow", 0), path + " line 4: ");
  EXPECT_EQ(c.sources.prefix("allow", 1), "");
  EXPECT_EQ(c.private_key_file, key) << "relative to the config file";
}

TEST_F(ConfigErrors, HostPortOnTheCommandLineAndInTheFile) {
  Config c = parse_ok({"-c", "198.18.0.1:4000", "-i", "t"});
  EXPECT_EQ(c.remote_host, "198.18.0.1");
  EXPECT_EQ(c.port, 4000);
  c = parse_ok({"-c", "[2001:db8::1]", "-i", "t"});
  EXPECT_EQ(c.remote_host, "2001:db8::1");
  EXPECT_EQ(c.port, 55555);
  c = parse_ok({"-c", "[2001:db8::1]:4000", "-i", "t", "-p", "4000"});
  EXPECT_EQ(c.port, 4000) << "the same port twice is no conflict";
  c = parse_ok({"-c", "2001:db8::1", "-i", "t"});
  EXPECT_EQ(c.remote_host, "2001:db8::1");
  c = parse_ok({"-s", "--listen", "[::1]:4000", "-i", "t"});
  EXPECT_EQ(c.listen, "::1");
  EXPECT_EQ(c.port, 4000);
  EXPECT_EQ(parse_ok({"-s", "--listen", "::", "-i", "t"}).listen, "::");
  EXPECT_EQ(error_of({"-c", "h.example:4000", "-p", "5000", "-i", "t"}),
            "--connect: 'h.example:4000' names port 4000, but --port is 5000 (give one of them) "
            "(see tund --help)");
  // File and command line: the command line wins either way.
  std::string path = conf("connect = h.example:4000\niface = t\n");
  EXPECT_EQ(parse_ok({"--config", path, "-p", "5000"}).port, 5000);
  EXPECT_EQ(parse_ok({"--config", path}).port, 4000);
  path = conf("connect = h.example\niface = t\nport = 4000\n");
  EXPECT_EQ(parse_ok({"--config", path, "-c", "h2:6000"}).port, 6000);
  path = conf("connect = h.example:4000\niface = t\nport = 5000\n");
  EXPECT_EQ(error_of({"--config", path}),
            path +
                " line 1: --connect: 'h.example:4000' names port 4000, but --port is 5000 (give "
                "one of them)");
  EXPECT_EQ(error_of({"-c", "http://h.example", "-i", "t"}),
            "--connect: 'http://h.example' is a URL; give HOST, HOST:PORT or [IPv6]:PORT (see "
            "tund --help)");
}

TEST_F(ConfigErrors, FilesThatAreNotFiles) {
  EXPECT_EQ(error_of({"--config", dir_}), "config file " + dir_ + " is a directory, not a file");
  std::string pub = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ=";
  EXPECT_EQ(error_of({"-s", "-i", "t", "--private-key", "/tmp", "--allow", pub}),
            "--private-key: key file /tmp is a directory, not a file (see tund --help)");
  std::string key = write("k.key", "x\n");
  EXPECT_EQ(error_of({"-s", "-i", "t", "--private-key", key, "--allow", "/dev/null"}),
            "--allow: public key file /dev/null is not a regular file (see tund --help)");
  EXPECT_EQ(error_of({"-s", "-i", "t", "--private-key", key, "--allow-file", "/tmp"}),
            "--allow-file: allow file /tmp is a directory, not a file (see tund --help)");
  EXPECT_EQ(error_of({"-c", "h", "-i", "t", "--private-key", key, "--peer-key", "/tmp"}),
            "--peer-key: public key file /tmp is a directory, not a file (see tund --help)");
  EXPECT_EQ(error_of({"-s", "-i", "t", "--private-key", key, "--allow", pub, "--psk", "/tmp"}),
            "--psk: key file /tmp is a directory, not a file (see tund --help)");
  EXPECT_EQ(error_of({"-s", "-i", "t", "--private-key", dir_ + "/missing.key", "--allow", pub}),
            "--private-key: cannot read key file " + dir_ +
                "/missing.key: No such file or directory (see tund --help)");
  std::string typo = pub.substr(1);  // a character lost in copying
  EXPECT_EQ(error_of({"-s", "-i", "t", "--private-key", key, "--allow", typo}),
            "--allow: '" + typo +
                "' is neither a base64 key (44 characters ending in '=') nor a file (see tund "
                "--help)");
  std::string path = conf(kBase + "private-key = .\nallow = " + pub + "\n");
  EXPECT_EQ(error_of({"--config", path}),
            path + " line 3: --private-key: key file " + dir_ + "/. is a directory, not a file");
}

TEST_F(ConfigErrors, RequiredOptionsNameTheFileThatLacksThem) {
  std::string path = conf("# nothing yet\n");
  EXPECT_EQ(error_of({"--config", path, "-s"}),
            "--iface is required (" + path + " does not set it) (see tund --help)");
  EXPECT_EQ(error_of({"--config", path, "-i", "t"}),
            "one of -s/--server or -c/--connect HOST is required (" + path +
                " does not set it) (see tund --help)");
}

TEST_F(ConfigErrors, UsageErrorsOfTheCommandLine) {
  EXPECT_EQ(error_of({"-c", "-i", "x"}), "-c/--connect needs a HOST (see tund --help)");
  EXPECT_EQ(error_of({"-i", "x", "-c"}), "-c/--connect needs a HOST (see tund --help)");
  EXPECT_EQ(error_of({"-s", "-i", "x", "-p"}), "-p/--port needs a PORT (see tund --help)");
  EXPECT_EQ(error_of({"-s", "--iface", "--debug"}), "-i/--iface needs an IFNAME (see tund --help)");
  EXPECT_EQ(error_of({"-s", "-i", "x", "--mtu"}), "--mtu needs an N (see tund --help)");
  EXPECT_NE(error_of({"-s", "-i", "x", "genkey"}).find("a key command comes first and alone"),
            std::string::npos);
  auto none = parse_command_line({});
  ASSERT_TRUE(std::holds_alternative<CliExit>(none));
  EXPECT_EQ(std::get<CliExit>(none).status, 2);
  EXPECT_EQ(std::get<CliExit>(none).output, short_usage());
  EXPECT_NE(short_usage().find("tund genkey|genpsk"), std::string::npos);
  EXPECT_NE(short_usage().find("tund pubkey < PRIVATE_KEY_FILE"), std::string::npos);
  auto help = parse_command_line({"--help"});
  ASSERT_TRUE(std::holds_alternative<CliExit>(help));
  EXPECT_NE(std::get<CliExit>(help).output.find("\nUsage: tund -s -i IFNAME"), std::string::npos)
      << std::get<CliExit>(help).output;
  EXPECT_NE(std::get<CliExit>(help).output.find("tund genkey|genpsk"), std::string::npos);
}

// Numbers are decimal, whatever C's strtol(..., 0) would make of a leading zero.
TEST_F(ConfigErrors, NumbersAreDecimal) {
  EXPECT_EQ(parse_ok({"-s", "-i", "t", "-p", "010"}).port, 10);
  EXPECT_EQ(parse_ok({"-s", "-i", "t", "-p", "080"}).port, 80);
  EXPECT_EQ(parse_ok({"-s", "-i", "t", "--mtu", "01400"}).mtu, 1400u);
  EXPECT_EQ(parse_ok({"-s", "-i", "t", "--keepalive", "010", "-t", "udp"}).keepalive,
            std::chrono::seconds(10));
  EXPECT_EQ(parse_ok({"--config", conf(kBase + "mtu = 01400\nmax-pending = 010\n")}).mtu, 1400u);
  EXPECT_EQ(parse_ok({"--config", conf(kBase + "max-pending = 010\n")}).max_pending, 10u);
}

// An empty value (an unset shell variable: --private-key "$KEY") is not "no option": a
// missing --private-key would otherwise mean a tunnel without encryption.
TEST_F(ConfigErrors, EmptyValuesAreErrors) {
  EXPECT_EQ(error_of({"-s", "-i", "t", "--private-key", ""}),
            "--private-key needs a FILE (an empty value was given) (see tund --help)");
  EXPECT_EQ(error_of({"-s", "-i", "t", "--config="}), "--config needs a FILE (see tund --help)");
  EXPECT_EQ(error_of({"-s", "-i", "t", "--up", ""}),
            "--up needs a CMD (an empty value was given) (see tund --help)");
  EXPECT_EQ(error_of({"-c", "", "-i", "t"}),
            "-c/--connect needs a HOST (an empty value was given) (see tund --help)");
}

TEST_F(ConfigErrors, OptionsThatDoNothingAreWarnedAbout) {
  auto warnings = [](const std::vector<std::string>& args) { return parse_ok(args).warnings; };
  EXPECT_EQ(warnings({"-s", "-i", "t", "--keepalive", "5"}),
            std::vector<std::string>{
                "--keepalive does nothing over TCP (it is the UDP keepalive interval)"});
  EXPECT_TRUE(warnings({"-s", "-i", "t", "--keepalive", "5", "-t", "udp"}).empty());
  EXPECT_EQ(warnings({"-c", "h", "-i", "t", "--max-pending", "5"}).size(), 1u);
  EXPECT_EQ(warnings({"-s", "-i", "t", "--max-pending", "5"}).size(), 1u) << "no encryption";
  EXPECT_EQ(warnings({"-s", "-i", "t", "-a", "--no-offload"}),
            std::vector<std::string>{
                "--no-offload does nothing with TAP over TCP (a TAP device has no offloads)"});
  EXPECT_TRUE(warnings({"-s", "-i", "t", "-a", "--no-offload", "-t", "udp"}).empty());
  EXPECT_TRUE(warnings({"-s", "-i", "t", "--no-offload"}).empty());
  EXPECT_EQ(
      warnings({"-s", "-i", "t", "-a", "--address", "10.0.0.1/32", "--peer", "10.0.0.2"}).size(),
      1u);
  EXPECT_TRUE(
      warnings({"-s", "-i", "t", "--address", "10.0.0.1/32", "--peer", "10.0.0.2"}).empty());
  EXPECT_EQ(warnings({"-s", "-i", "t", "--address", "10.0.0.1/24", "--link-ip", "10.0.0.1"}),
            std::vector<std::string>{
                "--link-ip does nothing: it is the --address the kernel itself answers for (give "
                "tund an unused address on the link)"});
  EXPECT_EQ(warnings({"-s", "-i", "t", "--address", "10.0.0.1/32", "--peer", "10.0.0.2",
                      "--link-ip", "10.0.0.2"})
                .size(),
            1u);
  EXPECT_TRUE(
      warnings({"-s", "-i", "t", "--address", "10.0.0.1/24", "--link-ip", "10.0.0.254"}).empty());
  // A link address nothing routes to the device never answers (the shipped examples' hint
  // to switch to point to point, or to IPv6, left it so): outside the subnet, outside the
  // peer's /N, or IPv4 beside an IPv6 --address.
  auto one_outside = [&](std::vector<std::string> args) {
    auto w = warnings(args);
    return w.size() == 1 && w[0].find("will not answer") != std::string::npos;
  };
  EXPECT_TRUE(
      one_outside({"-s", "-i", "t", "--address", "10.0.0.1/24", "--link-ip", "192.168.77.1"}));
  EXPECT_TRUE(one_outside({"-s", "-i", "t", "--address", "10.0.0.1/32", "--peer", "10.0.0.2",
                           "--link-ip", "10.0.0.254"}));
  EXPECT_TRUE(one_outside({"-s", "-i", "t", "--address", "fd00::1/64", "--link-ip", "10.0.0.254"}));
  EXPECT_TRUE(warnings({"-s", "-i", "t", "--address", "10.0.0.1/24", "--peer", "10.0.0.2",
                        "--link-ip", "10.0.0.254"})
                  .empty());  // ADDR/24 peer PEER routes PEER/24
  std::string path = conf(kBase + "keepalive = 5\nport = 1\nport = 2\n");
  Config c = parse_ok({"--config", path});
  EXPECT_EQ(c.port, 2);
  EXPECT_EQ(c.warnings, (std::vector<std::string>{
                            path + " line 5: 'port' is set again; line 4's value is ignored",
                            path + " line 3: --keepalive does nothing over TCP (it is the "
                                   "UDP keepalive interval)"}));
}

TEST_F(ConfigErrors, LaterErrorsCanNameTheLine) {
  std::string path = conf(kBase + "user = nosuchuser\n");
  Config c = parse_ok({"--config", path});
  EXPECT_EQ(c.sources.locate("--user: no such user 'nosuchuser'"),
            path + " line 3: --user: no such user 'nosuchuser'");
  EXPECT_EQ(c.sources.locate("--iface: busy"), path + " line 2: --iface: busy");
  EXPECT_EQ(c.sources.locate("something else"), "something else");
  c = parse_ok({"--config", path, "--user", "x"});
  EXPECT_EQ(c.sources.locate("--user: no such user 'x'"), "--user: no such user 'x'");
}

// Issue 11 review: a fresh user's command lines and files.
const std::string kKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

TEST_F(ConfigErrors, TwoConfigFilesAreAnError) {
  std::string b = conf(kBase);
  EXPECT_EQ(error_of({"--config", "/nonexistent", "--config", b}),
            "--config given twice (one config file; the command line adds to it) (see tund "
            "--help)");
}

TEST_F(ConfigErrors, ValuesTheKernelRefusesAreParseErrors) {
  for (const char* address : {"224.0.0.1/32", "0.0.0.0/0", "::/0", "::1/128", "ff02::1/64",
                              "127.0.0.2/8", "255.255.255.255/32", "::ffff:224.0.0.1/128"})
    EXPECT_NE(error_of({"-s", "-i", "t", "--address", address}).find("--address: '"),
              std::string::npos)
        << address;
  // A subnet's own broadcast and network addresses are no host's (10.0.0.1/31 and /32 are).
  for (const char* address : {"10.0.0.255/24", "10.0.0.0/24", "10.0.1.255/23", "10.0.0.3/30"})
    EXPECT_NE(error_of({"-s", "-i", "t", "--address", address}).find("--address: '"),
              std::string::npos)
        << address;
  for (const char* address : {"10.0.0.1/31", "10.0.0.0/31", "10.0.0.255/32", "10.0.0.254/24"})
    EXPECT_TRUE(
        std::holds_alternative<Config>(parse_command_line({"-s", "-i", "t", "--address", address})))
        << address;
  // Byte 0xa0 is a space to the kernel's isspace(): U+00A0, and inside 'à' (c3 a0).
  for (const char* name : {"all", "default", "-x", "tun\x01", "a\x7f", "tun\xc3\xa0", "t\xc2\xa0u"})
    EXPECT_NE(error_of({"-s", "-i", name}).find("--iface: '"), std::string::npos) << name;
  EXPECT_NE(error_of({"-s", "-i", "t", "--address", "10.0.0.1/24", "--link-ip", "10.0.0.255"})
                .find("broadcast address of --address 10.0.0.1/24"),
            std::string::npos);
  for (const char* ip : {"0.0.0.0", "255.255.255.255", "224.0.0.5", "127.0.0.1"})
    EXPECT_NE(error_of({"-s", "-i", "t", "--link-ip", ip}).find("--link-ip: "), std::string::npos)
        << ip;
  EXPECT_NE(
      error_of({"-s", "-i", "t", "-a", "--link-ip", "10.0.0.9", "--link-mac", "00:00:00:00:00:00"})
          .find("all-zero MAC"),
      std::string::npos);
  for (const char* peer : {"0.0.0.0", "255.255.255.255", "239.1.1.1", "127.0.0.1", "10.0.0.1"})
    EXPECT_NE(
        error_of({"-s", "-i", "t", "--address", "10.0.0.1/32", "--peer", peer}).find("--peer: "),
        std::string::npos)
        << peer;
  for (const char* host : {"224.0.0.1", "255.255.255.255", "0.0.0.0", "[::]", "::", "ff02::1"})
    EXPECT_NE(error_of({"-c", host, "-i", "t"}).find("--connect: "), std::string::npos) << host;
  for (const std::string& host :
       {std::string("a..b"), std::string(".a"), std::string("-x"), std::string("a.-b.c"),
        std::string("a-.b"), std::string(64, 'a') + ".b",
        std::string(127, 'a') + "." + std::string(127, 'b')})
    EXPECT_NE(error_of({"-c", host, "-i", "t"}).find("malformed host name"), std::string::npos)
        << host;
  EXPECT_EQ(parse_ok({"-c", "127.0.0.1", "-i", "t"}).remote_host, "127.0.0.1");
  EXPECT_EQ(parse_ok({"-c", "host.example.", "-i", "t"}).remote_host, "host.example.");
  EXPECT_NE(error_of({"-s", "-i", "t", "--listen", "224.0.0.1"}).find("--listen: "),
            std::string::npos);
  EXPECT_EQ(parse_ok({"-s", "-i", "t", "--listen", "::"}).listen, "::");
  std::string path = conf(kBase + "address = 224.0.0.1/32\n");
  EXPECT_EQ(error_of({"--config", path}).rfind(path + " line 3: --address: ", 0), 0u);
}

TEST_F(ConfigErrors, TheCommandLineModeDropsTheFilesOtherModeOptions) {
  std::string key = write("s.key", "x");
  std::string srv = conf("server = true\niface = t\nprivate-key = " + key + "\nallow = " + kKey +
                         "\nlisten = 198.18.0.1:4000\nmax-pending = 4\n");
  Config c = parse_ok({"--config", srv, "-c", "198.18.0.1", "--peer-key", kKey});
  EXPECT_EQ(c.role, Role::client);
  EXPECT_TRUE(c.allow.empty());
  EXPECT_EQ(c.port, proto::kDefaultPort);
  EXPECT_EQ(c.warnings, (std::vector<std::string>{
                            srv + " line 4: 'allow' ignored: -c on the command line makes this a "
                                  "client",
                            srv + " line 5: 'listen' ignored: -c on the command line makes this "
                                  "a client",
                            srv + " line 6: 'max-pending' ignored: -c on the command line makes "
                                  "this a client"}));
  std::string cli = write("c.conf", "connect = h:4000\niface = t\nprivate-key = " + key +
                                        "\n"
                                        "peer-key = " +
                                        kKey + "\n");
  c = parse_ok({"--config", cli, "-s", "--allow", kKey});
  EXPECT_EQ(c.role, Role::server);
  EXPECT_EQ(c.port, proto::kDefaultPort);  // the port inside the dropped connect goes too
  EXPECT_TRUE(c.peer_key.empty());
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_EQ(c.warnings[0],
            cli +
                " line 1: 'connect' ignored (its port too): -s on the command line makes this "
                "a server");
}

TEST_F(ConfigErrors, TheCommandLineTunDropsTheFilesTapOnlyLinkMac) {
  std::string path = conf(kBase + "tap = true\nlink-ip = 10.0.0.9\nlink-mac = 02:00:00:00:00:09\n");
  Config c = parse_ok({"--config", path, "-u"});
  EXPECT_EQ(c.device, DeviceKind::tun);
  EXPECT_TRUE(c.link_mac.empty());
  EXPECT_EQ(
      c.warnings,
      (std::vector<std::string>{path + " line 5: 'link-mac' ignored: -u on the command line makes "
                                       "this TUN"}));
}

TEST_F(ConfigErrors, ExclusionsLookAtTheFinalValues) {
  EXPECT_EQ(parse_ok({"-s", "-i", "t", "-u", "--tap=false"}).device, DeviceKind::tun);
  EXPECT_EQ(parse_ok({"-s", "-i", "t", "--tun=false", "-a"}).device, DeviceKind::tap);
  EXPECT_EQ(parse_ok({"-i", "t", "--server=false", "-c", "h"}).role, Role::client);
  std::string path = conf("tun = true\nserver = true\niface = t\n");
  EXPECT_EQ(parse_ok({"--config", path, "--server=false", "-c", "h"}).role, Role::client);
  // A flag set to false picks nothing: the file's choice in the group stays.
  std::string tap = conf("tap = true\nserver = true\niface = t\n");
  EXPECT_EQ(parse_ok({"--config", tap, "--tun=false"}).device, DeviceKind::tap);
  EXPECT_EQ(parse_ok({"--config", tap, "--tap=false"}).device, DeviceKind::tun);
  EXPECT_EQ(parse_ok({"--config", tap, "--connect=h", "--server=false"}).role, Role::client);
  EXPECT_EQ(error_of({"-s", "-c", "h", "-i", "t"}),
            "--server excludes --connect (give -s or -c HOST) (see tund --help)");
  EXPECT_EQ(error_of({"-s", "-i", "t", "-u", "-a"}),
            "--tun excludes --tap (give -u or -a) (see tund --help)");
}

TEST_F(ConfigErrors, MoreWarningsAndMessages) {
  EXPECT_EQ(parse_ok({"-s", "-i", "t", "-a", "--link-mac", "02:00:00:00:00:01"}).warnings,
            (std::vector<std::string>{"--link-mac does nothing without --link-ip (it is the MAC "
                                      "tund answers ARP and Neighbor Discovery with for that "
                                      "address)"}));
  EXPECT_EQ(parse_ok({"-s", "-i", "a", "-i", "b", "-p", "4000", "-p", "5000"}).warnings,
            (std::vector<std::string>{
                "--iface is given 2 times on the command line; the last value is used",
                "--port is given 2 times on the command line; the last value is used"}));
  EXPECT_EQ(error_of({"-s", "-i", "t", "--user"}), "--user needs a USER (see tund --help)");
  EXPECT_EQ(error_of({"-s", "-i", "t", "-t", ""}),
            "--transport: an empty value (expected tcp or udp) (see tund --help)");
  EXPECT_EQ(error_of({"-s", "-i", "t", "-p", "4294967297"}),
            "--port: 4294967297 is out of range (1-65535) (see tund --help)");
  EXPECT_EQ(parse_ok({"-s", "-i", "t", "-p", "0000000000000000000000080"}).port, 80);
  EXPECT_EQ(error_of({"-s", "-i", "t", "--debug=maybe"}),
            "--debug: expected true or false, got 'maybe' (see tund --help)");
  EXPECT_EQ(error_of({"-s", "-i", "t", "--debug=2"}),
            "--debug: expected true or false, got '2' (see tund --help)");
  EXPECT_TRUE(parse_ok({"-s", "-i", "t", "--debug=Yes"}).debug);
  EXPECT_FALSE(parse_ok({"-s", "-i", "t", "--debug=off"}).debug);
  EXPECT_EQ(error_of({"-c", "a\nb", "-i", "t"}).find(' ', 0) != std::string::npos, true);
  EXPECT_NE(error_of({"-c", "a\nb", "-i", "t"}).find("'a\\nb'"), std::string::npos);
}

TEST_F(ConfigErrors, HintsForShortLettersAndOtherSpellings) {
  struct Case {
    std::string key, hint;
  } cases[] = {{"t", "use the long name: 'transport'"},
               {"s", "use the long name: 'server'"},
               {"i", "use the long name: 'iface'"},
               {"p", "use the long name: 'port'"},
               {"c", "use the long name: 'connect'"},
               {"d", "use the long name: 'debug'"},
               {"u", "use the long name: 'tun'"},
               {"interface", "did you mean 'iface'?"},
               {"PrivateKey", "did you mean 'private-key'?"},
               {"private_key", "did you mean 'private-key'?"},
               {"ip", "did you mean 'address'?"},
               {"Listen", "did you mean 'listen'?"},
               {"listn", "did you mean 'listen'?"}};
  for (const Case& c : cases)
    EXPECT_NE(error_of({"--config", conf(c.key + " = x\n")}).find(c.hint), std::string::npos)
        << c.key;
}

TEST_F(ConfigErrors, InvisibleCharactersOfEveryKindAreFound) {
  for (const char* bad :
       {"\xC2\x85", "\xC2\xAD", "\xC2\x80", "\xC2\x9F", "\xEF\xBB\xBF", "\xE2\x81\xA2",
        "\xE2\x80\x8B", "\xE2\x80\xAE", "\xE2\x81\xA7", "\xE2\x80\x83"})
    EXPECT_NE(error_of({"--config", conf(std::string("iface = tun") + bad + "0\n")})
                  .find("an invisible character"),
              std::string::npos)
        << bad;
}

}  // namespace
}  // namespace tund::config
