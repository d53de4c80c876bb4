#include "tund/config/cli.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace tund::config {
namespace {

Config parse_ok(std::vector<std::string> args) {
  auto r = parse_command_line(args);
  if (auto* exit = std::get_if<CliExit>(&r)) ADD_FAILURE() << exit->output;
  return std::get_if<Config>(&r) ? std::get<Config>(r) : Config{};
}

CliExit parse_exit(std::vector<std::string> args) {
  auto r = parse_command_line(args);
  EXPECT_TRUE(std::holds_alternative<CliExit>(r));
  return std::holds_alternative<CliExit>(r) ? std::get<CliExit>(r) : CliExit{};
}

void expect_error(std::vector<std::string> args, const std::string& needle) {
  CliExit e = parse_exit(args);
  EXPECT_EQ(e.status, 2);
  EXPECT_EQ(e.output.rfind("tund: error: ", 0), 0u) << e.output;
  EXPECT_NE(e.output.find(needle), std::string::npos) << e.output;
  EXPECT_EQ(std::count(e.output.begin(), e.output.end(), '\n'), 1) << "one line: " << e.output;
}

TEST(Cli, SimpletunServerCommand) {
  Config c = parse_ok({"-s", "-i", "tun3"});
  EXPECT_EQ(c.role, Role::server);
  EXPECT_EQ(c.iface, "tun3");
  EXPECT_EQ(c.port, 55555);
  EXPECT_EQ(c.device, DeviceKind::tun);
  EXPECT_EQ(c.transport, TransportKind::tcp);
  EXPECT_FALSE(c.mtu);
  EXPECT_FALSE(c.debug);
}

TEST(Cli, SimpletunClientCommand) {
  Config c = parse_ok({"-c", "10.2.3.4", "-i", "tun11"});
  EXPECT_EQ(c.role, Role::client);
  EXPECT_EQ(c.remote_host, "10.2.3.4");
}

TEST(Cli, ShortFlags) {
  Config c = parse_ok({"-c", "::1", "-i", "tap0", "-a", "-p", "4000", "-d", "-t", "udp"});
  EXPECT_EQ(c.device, DeviceKind::tap);
  EXPECT_EQ(c.port, 4000);
  EXPECT_TRUE(c.debug);
  EXPECT_EQ(c.transport, TransportKind::udp);
  EXPECT_EQ(c.remote_host, "::1");
}

TEST(Cli, LongFlags) {
  Config c = parse_ok({"--server", "--iface", "tun0", "--tun", "--port", "1", "--transport", "tcp",
                       "--listen", "198.18.0.1", "--mtu", "1280", "--debug", "--keepalive", "3"});
  EXPECT_EQ(c.role, Role::server);
  EXPECT_EQ(c.listen, "198.18.0.1");
  EXPECT_EQ(c.mtu, 1280u);
  EXPECT_EQ(c.keepalive, std::chrono::seconds(3));
  Config d = parse_ok({"--connect", "host.example", "--iface", "tap1", "--tap"});
  EXPECT_EQ(d.device, DeviceKind::tap);
}

TEST(Cli, HelpAndVersionExitZero) {
  CliExit h = parse_exit({"--help"});
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.output.find("--connect"), std::string::npos);
  CliExit v = parse_exit({"--version"});
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.output, std::string("tund ") + kVersion + "\n");
}

TEST(Cli, Errors) {
  expect_error({"-s", "-i", "tun0", "--frobnicate"}, "--frobnicate");
  expect_error({"-s", "-c", "h", "-i", "tun0"}, "excludes");
  expect_error({"-i", "tun0"}, "one of -s/--server or -c/--connect");
  expect_error({"-s"}, "--iface is required");
  expect_error({"-s", "-i", "t", "-p", "0"}, "--port");
  expect_error({"-s", "-i", "t", "-p", "70000"}, "--port");
  expect_error({"-s", "-i", "t", "-p", "http"}, "--port");
  expect_error({"-s", "-i", "t", "-t", "sctp"}, "--transport");
  expect_error({"-s", "-i", "t", "-u", "-a"}, "excludes");
  expect_error({"-s", "-i", "t", "--mtu", "100"}, "--mtu");
  expect_error({"-c", "h", "-i", "t", "--listen", "::"}, "--listen is for the server");
  expect_error({"-c"}, "-c");
}

// The kernel's dev_valid_name(): refused before anything is created, as a usage error.
TEST(Cli, InvalidInterfaceNamesAreUsageErrors) {
  for (const std::string& bad :
       {std::string(""), std::string("a b"), std::string("tab\tname"), std::string("a/b"),
        std::string("a:b"), std::string("."), std::string(".."), std::string(16, 'x'),
        std::string("tun%d%d"), std::string("tun%s"), std::string("tun%")}) {
    CliExit e = parse_exit({"-s", "-i", bad});
    EXPECT_EQ(e.status, 2) << bad;
    EXPECT_NE(e.output.find("--iface"), std::string::npos) << e.output;
    EXPECT_EQ(std::count(e.output.begin(), e.output.end(), '\n'), 1) << e.output;
  }
  EXPECT_NE(parse_exit({"-s", "-i", "a b"}).output.find("whitespace"), std::string::npos);
  EXPECT_NE(parse_exit({"-s", "-i", std::string(16, 'x')}).output.find("15 bytes"),
            std::string::npos);
}

TEST(Cli, ValidInterfaceNamesAndTemplates) {
  for (const std::string& good :
       std::vector<std::string>{"tun0", "tun%d", "%d", std::string(15, 'x'), "my-tap.1"})
    EXPECT_EQ(parse_ok({"-s", "-i", good}).iface, good);
}

TEST(Cli, AddressesAreCheckedBeforeStartUp) {
  expect_error({"-s", "-i", "t", "--address", "10.0.0.1/33"}, "--address: bad prefix length");
  expect_error({"-s", "-i", "t", "--address", "nope"}, "--address: 'nope' is not an IPv4");
  expect_error({"-s", "-i", "t", "--address", "fd00::1/129"}, "--address: bad prefix length");
  expect_error({"-s", "-i", "t", "--address", "10.0.0.1/"}, "--address: bad prefix length");
  expect_error({"-s", "-i", "t", "--address", "10.0.0.1/32", "--peer", "x"}, "--peer: 'x'");
  expect_error({"-s", "-i", "t", "--address", "fd00::1/64", "--peer", "10.0.0.2"},
               "--peer 10.0.0.2 is IPv4 but no --address is");
  expect_error({"-s", "-i", "t", "--link-ip", "10.0.0"}, "--link-ip: '10.0.0'");
  EXPECT_EQ(parse_ok({"-s", "-i", "t", "--address", "fd00::1/64"}).addresses,
            (std::vector<DeviceAddress>{{"fd00::1/64", ""}}));
  EXPECT_EQ(parse_ok({"-s", "-i", "t", "--address", "10.0.0.1/32", "--peer", "10.0.0.2"}).addresses,
            (std::vector<DeviceAddress>{{"10.0.0.1/32", "10.0.0.2"}}));
}

}  // namespace
}  // namespace tund::config

namespace tund::config {
namespace {

// Issue 14: the status options. --metrics-listen needs an address of this host and a port.
TEST(Cli, MetricsListenTakesAnAddressAndAPort) {
  Config v4 = parse_ok({"-s", "-i", "tun3", "--metrics-listen", "127.0.0.1:9586"});
  EXPECT_EQ(v4.metrics_host, "127.0.0.1");
  EXPECT_EQ(v4.metrics_port, 9586);
  Config v6 = parse_ok({"-c", "198.18.0.1", "-i", "tun3", "--metrics-listen", "[::1]:9100"});
  EXPECT_EQ(v6.metrics_host, "::1");
  EXPECT_EQ(v6.metrics_port, 9100);
  EXPECT_TRUE(v4.warnings.empty()) << v4.warnings.front();
  Config any = parse_ok({"-s", "-i", "tun3", "--metrics-listen", "0.0.0.0:9586"});
  ASSERT_EQ(any.warnings.size(), 1u);
  EXPECT_NE(any.warnings[0].find("no authentication"), std::string::npos) << any.warnings[0];
  Config off = parse_ok({"-s", "-i", "tun3"});
  EXPECT_TRUE(off.metrics_host.empty()) << "off by default";
  EXPECT_EQ(off.metrics_port, 0);
}

TEST(Cli, MetricsListenRefusesWhatCannotBeListenedOn) {
  expect_error({"-s", "-i", "tun3", "--metrics-listen", "127.0.0.1"}, "has no port");
  expect_error({"-s", "-i", "tun3", "--metrics-listen", "[::1]"}, "has no port");
  expect_error({"-s", "-i", "tun3", "--metrics-listen", "localhost:9586"},
               "is not an IPv4 or IPv6 address");
  expect_error({"-s", "-i", "tun3", "--metrics-listen", "224.0.0.1:9586"},
               "not a local unicast address");
  expect_error({"-s", "-i", "tun3", "--metrics-listen", "127.0.0.1:0"}, "--metrics-listen");
  expect_error({"-s", "-i", "tun3", "--metrics-listen", "127.0.0.1:70000"}, "--metrics-listen");
  expect_error({"-s", "-i", "tun3", "--metrics-listen", ""}, "an empty value");
}

TEST(Cli, ControlSocketAndGroupAreTaken) {
  Config c = parse_ok(
      {"-s", "-i", "tun3", "--control-socket", "/tmp/x/tun3.sock", "--control-group", "tundctl"});
  EXPECT_EQ(c.control_socket, "/tmp/x/tun3.sock");
  EXPECT_EQ(c.control_group, "tundctl");
  Config d = parse_ok({"-s", "-i", "tun3"});
  EXPECT_TRUE(d.control_socket.empty()) << "empty: the default /run/tund/IFACE.sock";
  EXPECT_TRUE(d.control_group.empty());
}

}  // namespace
}  // namespace tund::config
