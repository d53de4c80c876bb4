// Dual-stack addressing (issue 15): --address repeatable in any mix of families, --peer one
// per family paired with the first --address of its family, --link-ip one per family; the
// same from a config file, whose errors name the line of the value at fault.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "tund/config/cli.hpp"

namespace tund::config {
namespace {

using Args = std::vector<std::string>;

Config parse_ok(const Args& args) {
  auto r = parse_command_line(args);
  if (auto* exit = std::get_if<CliExit>(&r)) ADD_FAILURE() << exit->output;
  return std::get_if<Config>(&r) ? std::get<Config>(r) : Config{};
}

// The error line without "tund: error: " and the final newline; "" (and a failure) if it parsed.
std::string error_of(const Args& args) {
  auto r = parse_command_line(args);
  auto* exit = std::get_if<CliExit>(&r);
  if (!exit) {
    ADD_FAILURE() << "parsed";
    return "";
  }
  EXPECT_EQ(exit->status, 2);
  return exit->output.substr(13, exit->output.size() - 14);
}

Args server(const Args& more) {
  Args args = {"-s", "-i", "t"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::string conf(const std::string& text) {
  std::string path = ::testing::TempDir() + "/tund-addr-" + std::to_string(::getpid()) + ".conf";
  std::ofstream(path) << text;
  ::chmod(path.c_str(), 0600);
  return path;
}

TEST(Addresses, EveryAddressInOrderWithThePeerOfItsFamily) {
  Config c = parse_ok(server({"--address", "10.0.0.1/32", "--address", "fd00::1/64", "--address",
                              "10.1.0.1/24", "--peer", "fd00::2", "--peer", "10.0.0.2"}));
  EXPECT_EQ(c.addresses,
            (std::vector<DeviceAddress>{
                {"10.0.0.1/32", "10.0.0.2"}, {"fd00::1/64", "fd00::2"}, {"10.1.0.1/24", ""}}));
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
  // IPv6 first, no peer at all.
  EXPECT_EQ(parse_ok(server({"--address", "fd00::1/64", "--address", "10.0.0.1/24"})).addresses,
            (std::vector<DeviceAddress>{{"fd00::1/64", ""}, {"10.0.0.1/24", ""}}));
  EXPECT_EQ(parse_ok(server({"--address", "fd00::1/128", "--peer", "fd00::2"})).addresses,
            (std::vector<DeviceAddress>{{"fd00::1/128", "fd00::2"}}));
}

TEST(Addresses, PeersAndDuplicatesThatCannotBeMeant) {
  EXPECT_EQ(
      error_of(server({"--address", "10.0.0.1/32", "--peer", "10.0.0.2", "--peer", "10.0.0.3"})),
      "--peer: '10.0.0.2' and '10.0.0.3' are both IPv4 (at most one --peer per family) (see "
      "tund --help)");
  EXPECT_EQ(error_of(server({"--address", "10.0.0.1/32", "--peer", "fd00::2"})),
            "--peer fd00::2 is IPv6 but no --address is (a --peer pairs with the first --address "
            "of its family) (see tund --help)");
  EXPECT_EQ(error_of(server({"--peer", "fd00::2"})),
            "--peer goes with --address (see tund --help)");
  // The same address twice, whatever its prefix or spelling.
  EXPECT_EQ(error_of(server({"--address", "10.0.0.1/24", "--address", "10.0.0.1/32"})),
            "--address: '10.0.0.1/32' is given twice (as '10.0.0.1/24' too) (see tund --help)");
  EXPECT_NE(error_of(server({"--address", "fd00::1/64", "--address", "fd00:0::1"}))
                .find("is given twice"),
            std::string::npos);
  // A peer that is one of this side's own addresses, of either position.
  EXPECT_NE(
      error_of(server({"--address", "fd00::1/128", "--address", "fd00::2/64", "--peer", "fd00::2"}))
          .find("this side's own --address"),
      std::string::npos);
  for (const char* peer :
       {"::", "ff02::1", "::1", "fd00::2/128", "fe80::1%eth0", "::ffff:10.0.0.2"})
    EXPECT_EQ(error_of(server({"--address", "fd00::1/128", "--peer", peer})).rfind("--peer", 0), 0u)
        << peer;
  EXPECT_EQ(error_of(server({"--address", "::ffff:10.0.0.1/128"})).rfind("--address: '", 0), 0u);
}

// IPv6 needs an MTU of at least 1280 (RFC 8200): refused before any device exists, naming
// the IPv6 address; IPv4 alone may run on less.
TEST(Addresses, AnIpv6AddressNeedsAnMtuOf1280) {
  EXPECT_EQ(error_of(server({"--mtu", "576", "--address", "10.0.0.1/24", "--address",
                             "fd00::1/64"})),
            "--mtu 576 is below 1280, the least IPv6 allows (RFC 8200), and fd00::1/64 is an "
            "IPv6 address (raise --mtu or give only IPv4 addresses) (see tund --help)");
  EXPECT_NE(error_of(server({"--mtu", "1279", "--link-ip", "fd00::9"})).find("fd00::9"),
            std::string::npos);
  EXPECT_EQ(parse_ok(server({"--mtu", "1280", "--address", "fd00::1/64"})).mtu, 1280u);
  EXPECT_EQ(parse_ok(server({"--mtu", "576", "--address", "10.0.0.1/24"})).mtu, 576u);
}

TEST(Addresses, OneLinkIpPerFamily) {
  Config c = parse_ok(server({"--address", "10.0.0.1/24", "--address", "fd00::1/64", "--link-ip",
                              "fd00::fe", "--link-ip", "10.0.0.254"}));
  EXPECT_EQ(c.link_ip, "10.0.0.254");
  EXPECT_EQ(c.link_ip6, "fd00::fe");
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
  EXPECT_EQ(parse_ok(server({"-a", "--link-ip", "fe80::fe"})).link_ip6, "fe80::fe");
  EXPECT_EQ(error_of(server({"--link-ip", "fd00::1", "--link-ip", "fd00::2"})),
            "--link-ip: 'fd00::1' and 'fd00::2' are both IPv6 (at most one --link-ip per family) "
            "(see tund --help)");
  for (const char* ip : {"::", "ff02::1", "::1", "fd00::1/128", "fe80::1%eth0", "::ffff:10.0.0.9"})
    EXPECT_EQ(error_of(server({"--link-ip", ip})).rfind("--link-ip: ", 0), 0u) << ip;
  // The IPv4 one is checked against every IPv4 --address: the broadcast of the second.
  EXPECT_NE(error_of(server({"--address", "10.0.0.1/24", "--address", "10.1.0.1/24", "--link-ip",
                             "10.1.0.255"}))
                .find("broadcast address of --address 10.1.0.1/24"),
            std::string::npos);
  // The IPv6 one against every IPv6 --address: its Subnet-Router anycast (RFC 4291 2.6.1).
  EXPECT_NE(error_of(server({"--address", "fd00:1::1/64", "--address", "fd00:2::1/64", "--link-ip",
                             "fd00:2::"}))
                .find("'fd00:2::' is the subnet-router anycast address of --address fd00:2::1/64"),
            std::string::npos);
  EXPECT_EQ(parse_ok(server({"--address", "fd00:2::1/127", "--link-ip", "fd00:2::"})).link_ip6,
            "fd00:2::");  // /127 has none (RFC 6164)
}

// The IPv6 counterpart of the IPv4 network address: a prefix's Subnet-Router anycast
// address (all host bits zero) is no host's; /127 and /128 have none (RFC 6164).
TEST(Addresses, TheSubnetRouterAnycastAddressIsNoHosts) {
  for (const char* address : {"fd00::/64", "fd00:1:2:3::/64", "fd00::/126", "fd00:8::/48"})
    EXPECT_NE(error_of(server({"--address", address})).find("subnet-router anycast"),
              std::string::npos)
        << address;
  EXPECT_EQ(error_of(server({"--address", "fd00::/64"})),
            "--address: 'fd00::/64' is the subnet-router anycast address of its prefix (RFC 4291 "
            "2.6.1), not a host's (e.g. fd00::1/64) (see tund --help)");
  EXPECT_NE(error_of(server({"--address", "fd00::100/120"})).find("(e.g. fd00::101/120)"),
            std::string::npos);
  for (const char* address : {"fd00::/127", "fd00::/128", "fd00::1/64", "fd00::101/120"})
    EXPECT_EQ(parse_ok(server({"--address", address})).addresses.size(), 1u) << address;
}

TEST(Addresses, LinkIpWarningsLookAtEveryAddressOfItsFamily) {
  auto warnings = [](const Args& more) { return parse_ok(server(more)).warnings; };
  // Link-local: fe80::/64 is routed to every IPv6 device, whatever its --address.
  EXPECT_TRUE(warnings({"-a", "--address", "10.0.0.2/24", "--address", "fd00:77::2/64", "--link-ip",
                        "fe80::fe"})
                  .empty());
  EXPECT_TRUE(warnings({"-a", "--address", "10.0.0.2/24", "--link-ip", "fe80::fe"}).empty());
  EXPECT_FALSE(warnings({"-a", "--address", "fd00:77::2/64", "--link-ip", "fd00:78::fe"}).empty());
  // Inside the second IPv4 subnet: routed, no warning.
  EXPECT_TRUE(
      warnings({"--address", "10.0.0.1/24", "--address", "10.1.0.1/24", "--link-ip", "10.1.0.9"})
          .empty());
  EXPECT_EQ(warnings({"--address", "fd00::1/64", "--link-ip", "fd01::9"}),
            (std::vector<std::string>{
                "--link-ip fd01::9 is outside --address fd00::1/64, the only addresses routed to "
                "the device, so it will not answer (pick an unused address inside the subnet, or "
                "give --address a prefix holding it)"}));
  // IPv6 link address beside IPv4 only: nothing routes it; the same-family reason wins.
  EXPECT_EQ(warnings({"--address", "10.0.0.1/24", "--link-ip", "fd00::9"})
                .at(0)
                .rfind("--link-ip fd00::9 is IPv6 but --address 10.0.0.1/24 is IPv4", 0),
            0u);
  EXPECT_EQ(
      warnings({"--address", "10.0.0.1/24", "--address", "fd00::1/64", "--link-ip", "fd01::9"})
          .at(0)
          .rfind("--link-ip fd01::9 is outside --address fd00::1/64", 0),
      0u);
  EXPECT_EQ(
      warnings({"--address", "fd00::1/128", "--peer", "fd00::2", "--link-ip", "fd00::2"}).at(0),
      "--link-ip is the --peer address: tund answers pings to it itself, so they never reach "
      "the peer");
  EXPECT_EQ(
      warnings({"--address", "10.0.0.1/24", "--address", "fd00::1/64", "--link-ip", "fd00::1"})
          .at(0)
          .rfind("--link-ip does nothing: it is the --address", 0),
      0u);
  // --link-mac counts a link address of either family.
  EXPECT_TRUE(warnings({"-a", "--link-ip", "fd00::9", "--link-mac", "02:00:00:00:00:09"}).empty());
}

TEST(Addresses, ConfigFileRepeatsAndNamesTheLineOfTheValueAtFault) {
  std::string base = "server = true\niface = t\n";
  Config c = parse_ok({"--config", conf(base + "address = 10.0.0.1/24\naddress = fd00::1/64\n"
                                               "link-ip = 10.0.0.9\nlink-ip = fd00::9\n")});
  EXPECT_EQ(c.addresses, (std::vector<DeviceAddress>{{"10.0.0.1/24", ""}, {"fd00::1/64", ""}}));
  EXPECT_EQ(c.link_ip6, "fd00::9");
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();  // no "set again": a list
  std::string path = conf(base + "address = 10.0.0.1/24\naddress = 10.0.0.255/24\n");
  EXPECT_EQ(error_of({"--config", path}).rfind(path + " line 4: --address: '10.0.0.255/24'", 0), 0u)
      << error_of({"--config", path});
  path = conf(base + "address = fd00::1/64\npeer = fd00::2\naddress = fd00::1/128\n");
  EXPECT_EQ(error_of({"--config", path}),
            path + " line 5: --address: 'fd00::1/128' is given twice (as 'fd00::1/64' too)");
  path = conf(base + "address = 10.0.0.1/32\npeer = 10.0.0.2\npeer = 10.0.0.3\n");
  EXPECT_EQ(error_of({"--config", path}).rfind(path + " line 5: --peer: ", 0), 0u);
  path = conf(base + "link-ip = 10.0.0.9\nlink-ip = fe80::9\nlink-ip = ff02::1\n");
  EXPECT_EQ(error_of({"--config", path}).rfind(path + " line 5: --link-ip: ", 0), 0u);
  // The command line's addresses replace the file's (a new set, not more of them), the
  // file's peers with them.
  path = conf(base + "address = 10.0.0.1/24\naddress = fd00::1/64\npeer = fd00::2\n");
  EXPECT_EQ(parse_ok({"--config", path, "--address", "10.9.0.1/24"}).addresses,
            (std::vector<DeviceAddress>{{"10.9.0.1/24", ""}}));
  EXPECT_EQ(error_of({"--config", path, "--address", "10.9.0.1/24", "--peer", "10.9.0.2", "--peer",
                      "10.9.0.3"})
                .rfind("--peer: ", 0),
            0u);
}

}  // namespace
}  // namespace tund::config
