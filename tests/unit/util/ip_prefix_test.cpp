#include "tund/util/ip_prefix.hpp"

#include <gtest/gtest.h>

#include <random>

namespace tund::util {
namespace {

std::string canonical(const std::string& text) {
  auto prefix = parse_ip_prefix(text);
  return prefix ? to_string(*prefix) : "nullopt";
}

std::string error_of(const std::string& text) {
  std::string error;
  EXPECT_FALSE(parse_ip_prefix(text, &error)) << text;
  return error;
}

TEST(IpPrefix, ParsesIpv4AndIpv6) {
  auto p = parse_ip_prefix("10.8.0.2/32");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->family, IpFamily::v4);
  EXPECT_EQ(p->length, 32u);
  EXPECT_EQ(p->address[0], std::byte{10});
  EXPECT_EQ(p->address[3], std::byte{2});
  EXPECT_EQ(p->address[4], std::byte{0});  // the rest of the 16 bytes stays zero
  auto q = parse_ip_prefix("fd00:8::2/128");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->family, IpFamily::v6);
  EXPECT_EQ(q->length, 128u);
  EXPECT_EQ(q->address[0], std::byte{0xfd});
  EXPECT_EQ(q->address[15], std::byte{2});
  EXPECT_EQ(canonical("0.0.0.0/0"), "0.0.0.0/0");
  EXPECT_EQ(canonical("::/0"), "::/0");
  EXPECT_EQ(canonical("FD00:8:0:0::/64"), "fd00:8::/64");
  EXPECT_EQ(canonical("::ffff:10.0.0.1/128"), "::ffff:10.0.0.1/128");
}

TEST(IpPrefix, AnAddressAloneIsAHost) {
  EXPECT_EQ(canonical("10.8.0.2"), "10.8.0.2/32");
  EXPECT_EQ(canonical("fd00::1"), "fd00::1/128");
}

TEST(IpPrefix, HostBitsAreCleared) {
  EXPECT_EQ(canonical("10.9.0.1/24"), "10.9.0.0/24");
  EXPECT_EQ(canonical("10.9.255.255/17"), "10.9.128.0/17");
  EXPECT_EQ(canonical("255.255.255.255/1"), "128.0.0.0/1");
  EXPECT_EQ(canonical("10.1.2.3/0"), "0.0.0.0/0");
  EXPECT_EQ(canonical("fd00:8::ffff/112"), "fd00:8::/112");
  EXPECT_EQ(canonical("fd00:8::ffff/121"), "fd00:8::ff80/121");
  auto a = parse_ip_prefix("10.9.0.77/24"), b = parse_ip_prefix("10.9.0.0/24");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);  // normalised: equal as values too
}

TEST(IpPrefix, BadLengths) {
  for (const char* text :
       {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/0008", "10.0.0.0/8/8",
        "10.0.0.0/x", "fd00::/129", "fd00::/1000", "10.0.0.0/99999999999999999999"})
    EXPECT_FALSE(parse_ip_prefix(text)) << text;
  EXPECT_EQ(error_of("10.0.0.0/33"), "'10.0.0.0/33': bad prefix length (0-32)");
  EXPECT_EQ(error_of("fd00::/129"), "'fd00::/129': bad prefix length (0-128)");
  EXPECT_EQ(canonical("10.0.0.0/008"), "10.0.0.0/8");  // three digits at most, zeros fine
}

TEST(IpPrefix, ZoneIndexIsRefused) {
  EXPECT_EQ(error_of("fe80::1%eth0/64"),
            "'fe80::1%eth0/64': a zone index (%...) has no "
            "meaning in a prefix");
  EXPECT_FALSE(parse_ip_prefix("fe80::1%eth0"));
}

TEST(IpPrefix, SpacesAndControlCharactersAreRefused) {
  for (const char* text :
       {" 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0 /8", "10.0.0.0/ 8", "10.0.0.0\t/8", "10.0.0.0/8\n"})
    EXPECT_FALSE(parse_ip_prefix(text)) << text;
  EXPECT_EQ(error_of("10.0.0.0 /8"),
            "'10.0.0.0 /8': spaces or control characters inside an "
            "address");
  EXPECT_FALSE(parse_ip_prefix(std::string("10.0.0.0\0/8", 11)));
}

TEST(IpPrefix, JunkIsRefused) {
  for (const char* text : {"", "/", "/8", "10.0.0", "10.0.0.256/32", "010.0.0.1", "1.2.3.4.5",
                           "host.example", "fd00:::1/64", "fd00::g", "[fd00::1]/128",
                           "10.0.0.0,"
                           "10.0.0.1/32",
                           "0x0a.0.0.1", "\xff\xfe"})
    EXPECT_FALSE(parse_ip_prefix(text)) << text;
  EXPECT_EQ(error_of(""), "an empty address");
  EXPECT_EQ(error_of("nope/8"), "'nope/8' is not an IPv4 or IPv6 address");
  EXPECT_FALSE(parse_ip_prefix("junk"));  // no error pointer: no crash
}

TEST(IpPrefix, Contains) {
  auto net = *parse_ip_prefix("10.9.128.0/17");
  auto in = *parse_ip_prefix("10.9.200.1"), out = *parse_ip_prefix("10.9.127.255");
  auto v6 = *parse_ip_prefix("fd00::1");
  ConstByteSpan in_bytes(in.address.data(), 4), out_bytes(out.address.data(), 4);
  EXPECT_TRUE(contains(net, IpFamily::v4, in_bytes));
  EXPECT_FALSE(contains(net, IpFamily::v4, out_bytes));
  EXPECT_FALSE(contains(net, IpFamily::v6, ConstByteSpan(v6.address)));  // family differs
  EXPECT_FALSE(contains(net, IpFamily::v4, ConstByteSpan(in.address)));  // 16 bytes for v4
  auto all = *parse_ip_prefix("::/0");
  EXPECT_TRUE(contains(all, IpFamily::v6, ConstByteSpan(v6.address)));
  auto host = *parse_ip_prefix("fd00::1/128"), other = *parse_ip_prefix("fd00::2");
  EXPECT_TRUE(contains(host, IpFamily::v6, ConstByteSpan(v6.address)));
  EXPECT_FALSE(contains(host, IpFamily::v6, ConstByteSpan(other.address)));
}

// contains() against a bit-by-bit oracle, on random prefixes and addresses.
TEST(IpPrefix, ContainsMatchesABitwiseOracle) {
  std::mt19937 rng(13);
  auto bit = [](const std::array<std::byte, 16>& a, unsigned i) {
    return (std::to_integer<unsigned>(a[i / 8]) >> (7 - i % 8)) & 1u;
  };
  for (int round = 0; round < 20000; ++round) {
    IpFamily family = round % 2 ? IpFamily::v6 : IpFamily::v4;
    std::array<std::byte, 16> a{}, b{};
    for (std::size_t i = 0; i < address_size(family); ++i) {
      a[i] = std::byte(rng() & 0xff);
      b[i] = round % 3 ? a[i] : std::byte(rng() & 0xff);  // often a shared start
    }
    b[rng() % address_size(family)] ^= std::byte(1u << (rng() % 8));
    unsigned length = static_cast<unsigned>(rng() % (max_prefix_length(family) + 1));
    IpPrefix prefix{family, a, length};
    std::string text = to_string(IpPrefix{family, a, max_prefix_length(family)});
    prefix = *parse_ip_prefix(text.substr(0, text.find('/')) + "/" + std::to_string(length));
    bool expected = true;
    for (unsigned i = 0; i < length; ++i) expected = expected && bit(a, i) == bit(b, i);
    EXPECT_EQ(contains(prefix, family, ConstByteSpan(b.data(), address_size(family))), expected)
        << to_string(prefix);
    for (unsigned i = length; i < max_prefix_length(family); ++i)
      ASSERT_EQ(bit(prefix.address, i), 0u);
  }
}

TEST(IpPrefix, ToStringRoundTrips) {
  for (const char* text : {"10.8.0.2/32", "192.168.0.0/16", "0.0.0.0/0", "fd00:8::/64",
                           "2001:db8::1/128", "::/0", "::1/128"})
    EXPECT_EQ(canonical(text), text);
}

}  // namespace
}  // namespace tund::util
