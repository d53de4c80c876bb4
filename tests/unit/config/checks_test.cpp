#include "tund/config/checks.hpp"

#include <gtest/gtest.h>

namespace tund::config {
namespace {

HostPort split_ok(const std::string& text) {
  HostPort hp;
  EXPECT_EQ(host_port_error(text, hp), "") << text;
  return hp;
}

std::string split_error(const std::string& text) {
  HostPort hp;
  return host_port_error(text, hp);
}

TEST(HostPort, NamesAndAddressesWithAndWithoutPort) {
  EXPECT_EQ(split_ok("198.18.0.1").host, "198.18.0.1");
  EXPECT_FALSE(split_ok("198.18.0.1").port);
  EXPECT_EQ(split_ok("198.18.0.1:55555").host, "198.18.0.1");
  EXPECT_EQ(split_ok("198.18.0.1:55555").port, 55555);
  EXPECT_EQ(split_ok("host.example:4000").host, "host.example");
  EXPECT_EQ(split_ok("host.example:4000").port, 4000);
  EXPECT_EQ(split_ok("[2001:db8::1]").host, "2001:db8::1");
  EXPECT_FALSE(split_ok("[2001:db8::1]").port);
  EXPECT_EQ(split_ok("[2001:db8::1]:4000").host, "2001:db8::1");
  EXPECT_EQ(split_ok("[2001:db8::1]:4000").port, 4000);
  EXPECT_EQ(split_ok("[fe80::1%eth0]:1").host, "fe80::1%eth0");
  EXPECT_EQ(split_ok("[::]:65535").port, 65535);
}

TEST(HostPort, ABareIpv6AddressStaysAHost) {
  for (const char* text : {"2001:db8::1", "::1", "::", "2001:db8::1:4000", "fe80::1%eth0"}) {
    HostPort hp = split_ok(text);
    EXPECT_EQ(hp.host, text);
    EXPECT_FALSE(hp.port) << text;
  }
}

TEST(HostPort, BadPortsAndBracketsAreNamed) {
  EXPECT_EQ(split_error("h:0"), "bad port '0' in 'h:0' (1-65535)");
  EXPECT_EQ(split_error("h:65536"), "bad port '65536' in 'h:65536' (1-65535)");
  EXPECT_EQ(split_error("h:"), "bad port '' in 'h:' (1-65535)");
  EXPECT_EQ(split_error("h:http"), "bad port 'http' in 'h:http' (1-65535)");
  EXPECT_EQ(split_error("h:+80"), "bad port '+80' in 'h:+80' (1-65535)");
  EXPECT_EQ(split_error("h:0000080000"), "bad port '0000080000' in 'h:0000080000' (1-65535)");
  EXPECT_EQ(split_error(":4000"), "':4000': no host before the ':'");
  EXPECT_EQ(split_error(""), "an empty host");
  EXPECT_EQ(split_error("[2001:db8::1"), "'[2001:db8::1': '[' without ']'");
  EXPECT_EQ(split_error("[host.example]:80"),
            "'[host.example]:80': brackets are for an IPv6 address ([2001:db8::1]:55555)");
  EXPECT_EQ(split_error("[198.18.0.1]"),
            "'[198.18.0.1]': brackets are for an IPv6 address ([2001:db8::1]:55555)");
  EXPECT_EQ(split_error("[::1]4000"), "'[::1]4000': expected ':PORT' after ']'");
  EXPECT_EQ(split_error("[::1]:"), "bad port '' in '[::1]:' (1-65535)");
  EXPECT_EQ(split_error("[]:80"),
            "'[]:80': brackets are for an IPv6 address ([2001:db8::1]:55555)");
  EXPECT_EQ(split_error("tcp://h:80"),
            "'tcp://h:80' is a URL; give HOST, HOST:PORT or [IPv6]:PORT");
}

TEST(HostPort, HostsThatCannotBeLookedUp) {
  EXPECT_EQ(host_error("vpn.example.com"), "");
  EXPECT_EQ(host_error("198.18.0.1"), "");
  EXPECT_EQ(host_error("2001:db8::1"), "");
  EXPECT_EQ(host_error("a b"),
            "'a b': a host name cannot contain whitespace or control characters");
  EXPECT_EQ(host_error("a:b:c"),
            "'a:b:c' is not an IPv6 address (a port goes after it as HOST:PORT or [IPv6]:PORT)");
  EXPECT_EQ(host_error("198.18.0.1:1:2"),
            "'198.18.0.1:1:2' is not an IPv6 address (a port goes after it as HOST:PORT or "
            "[IPv6]:PORT)");
  EXPECT_EQ(host_error(""), "an empty host");
}

TEST(Checks, IpAddresses) {
  EXPECT_EQ(ip_error("198.18.0.1"), "");
  EXPECT_EQ(ip_error("::"), "");
  EXPECT_EQ(ip_error("fe80::1%eth0"), "");
  EXPECT_EQ(ip_error("fe80::1%"), "'fe80::1%' is not an IPv4 or IPv6 address");
  EXPECT_EQ(ip_error("nope"), "'nope' is not an IPv4 or IPv6 address");
  EXPECT_EQ(ip_error("10.0.0.1/24"), "'10.0.0.1/24' is not an IPv4 or IPv6 address");
  EXPECT_EQ(ip_error("198.18.0.1%eth0"), "'198.18.0.1%eth0' is not an IPv4 or IPv6 address");
}

// --peer and --link-ip: an address alone, of either family; no prefix, no scope.
TEST(Checks, PlainAndMappedAddresses) {
  EXPECT_EQ(plain_ip_error("10.0.0.2"), "");
  EXPECT_EQ(plain_ip_error("fd00::2"), "");
  for (const char* bad : {"fd00::2/128", "fe80::1%eth0", "10.0.0.2/32", "x", ""})
    EXPECT_EQ(plain_ip_error(bad), "'" + std::string(bad) + "' is not an IPv4 or IPv6 address");
  EXPECT_EQ(mapped_ipv4_error("::ffff:10.0.0.1/128"),
            "'::ffff:10.0.0.1/128' is an IPv4-mapped IPv6 address (give the IPv4 address itself)");
  EXPECT_NE(mapped_ipv4_error("::ffff:a00:1"), "");
  for (const char* fine : {"10.0.0.1/24", "fd00::1/64", "::1", "64:ff9b::a00:1", "x"})
    EXPECT_EQ(mapped_ipv4_error(fine), "") << fine;
}

// The kernel routes ADDR/N (or PEER/N) to the device, for either family.
TEST(Checks, LinkIpRouteWarningForBothFamilies) {
  EXPECT_EQ(link_ip_route_warning("10.0.0.9", "10.0.0.1/24", ""), "");
  EXPECT_EQ(link_ip_route_warning("fd00::9", "fd00::1/64", ""), "");
  EXPECT_EQ(link_ip_route_warning("fd00:1::9", "fd00::1/64", "fd00:1::2"), "");
  EXPECT_EQ(link_ip_route_warning("fd01::9", "fd00::1/64", ""),
            "--link-ip fd01::9 is outside --address fd00::1/64, the only addresses routed to the "
            "device, so it will not answer (pick an unused address inside the subnet, or give "
            "--address a prefix holding it)");
  EXPECT_EQ(link_ip_route_warning("fd00::9", "fd00::1/128", "fd00::2")
                .rfind("--link-ip fd00::9 is outside --peer fd00::2/128,", 0),
            0u);
  EXPECT_EQ(
      link_ip_route_warning("fd00::9", "10.0.0.1/24", "")
          .rfind("--link-ip fd00::9 is IPv6 but --address 10.0.0.1/24 is IPv4: nothing routes it",
                 0),
      0u);
  EXPECT_EQ(link_ip_route_warning("10.0.0.9", "fd00::1/64", "")
                .rfind("--link-ip 10.0.0.9 is IPv4 but --address fd00::1/64 is IPv6", 0),
            0u);
  EXPECT_EQ(link_ip_route_warning("10.0.0.9", "10.0.0.1", ""), "");  // no prefix: not judged
}

TEST(Checks, MacAddresses) {
  EXPECT_EQ(mac_error("02:00:5e:10:00:01"), "");
  EXPECT_EQ(mac_error("2:0:5E:10:0:1"), "");
  EXPECT_EQ(mac_error("01:00:5e:00:00:01"),
            "'01:00:5e:00:00:01' is a multicast MAC; the link needs a unicast one");
  EXPECT_EQ(mac_error("ff:ff:ff:ff:ff:ff"),
            "'ff:ff:ff:ff:ff:ff' is a multicast MAC; the link needs a unicast one");
  for (const char* bad :
       {"02:00:5e:10:00", "02:00:5e:10:00:01:02", "02-00-5e-10-00-01", "002:00:5e:10:00:01",
        "02:00:5e:10:00:0g", "02:00:5e:10:00:", "", " 2:00:5e:10:00:01", "+2:00:5e:10:00:01"})
    EXPECT_EQ(mac_error(bad),
              std::string("'") + bad + "' is not a MAC address (six hex bytes: 02:00:5e:10:00:01)");
}

TEST(Checks, FilesOptionsName) {
  EXPECT_EQ(file_error("/tmp", "key file"), "key file /tmp is a directory, not a file");
  EXPECT_EQ(file_error("/dev/null", "key file"), "key file /dev/null is not a regular file");
  EXPECT_EQ(file_error("/nonexistent", "allow file"),
            "cannot read allow file /nonexistent: No such file or directory");
  EXPECT_EQ(file_error("/proc/self/status", "key file"), "");
}

TEST(Checks, KeyLiteralsAsCryptoReadsThem) {
  EXPECT_TRUE(looks_like_key("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
  EXPECT_TRUE(looks_like_key(" AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= "));
  EXPECT_FALSE(looks_like_key("server.pub"));
  EXPECT_FALSE(looks_like_key("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
}

}  // namespace
}  // namespace tund::config
