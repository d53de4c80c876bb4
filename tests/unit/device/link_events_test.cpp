// The rtnetlink decoder against hand-built messages: what tund learns about its own
// device (name, MTU, deletion, IPv4 addresses), what it ignores (other interfaces, other
// families), and that cut-short input ends the walk instead of being read past.
#include "tund/device/link_events.hpp"

#include <gtest/gtest.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace tund::device {
namespace {

using Bytes = std::vector<std::byte>;
constexpr int kOurs = 7;

// Appends `size` bytes of `data`, then pads to the netlink alignment.
void append(Bytes& out, const void* data, std::size_t size) {
  auto p = static_cast<const std::byte*>(data);
  out.insert(out.end(), p, p + size);
  out.resize(NLMSG_ALIGN(out.size()));
}

void attribute(Bytes& body, unsigned short type, const void* data, std::size_t size) {
  rtattr rta{static_cast<unsigned short>(RTA_LENGTH(size)), type};
  std::size_t at = body.size();
  append(body, &rta, sizeof rta);
  body.resize(at + RTA_LENGTH(0));
  append(body, data, size);
}

// One netlink message of `type` around `body`, appended to `datagram`.
void message(Bytes& datagram, std::uint16_t type, const Bytes& body) {
  nlmsghdr header{};
  header.nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(body.size()));
  header.nlmsg_type = type;
  append(datagram, &header, sizeof header);
  datagram.insert(datagram.end(), body.begin(), body.end());
}

Bytes link_body(int ifindex, const char* name, std::optional<std::uint32_t> mtu) {
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = ifindex;
  Bytes body;
  append(body, &info, sizeof info);
  if (name) attribute(body, IFLA_IFNAME, name, std::strlen(name) + 1);
  if (mtu) attribute(body, IFLA_MTU, &*mtu, 4);
  return body;
}

Bytes address_body(int ifindex, unsigned char family, std::array<std::uint8_t, 4> local,
                   unsigned char prefix, std::optional<std::array<std::uint8_t, 4>> peer = {}) {
  ifaddrmsg info{};
  info.ifa_family = family;
  info.ifa_prefixlen = prefix;
  info.ifa_index = static_cast<unsigned>(ifindex);
  Bytes body;
  append(body, &info, sizeof info);
  attribute(body, IFA_ADDRESS, peer ? peer->data() : local.data(), 4);
  attribute(body, IFA_LOCAL, local.data(), 4);
  return body;
}

TEST(LinkEvents, NewLinkCarriesNameAndMtu) {
  Bytes d;
  message(d, RTM_NEWLINK, link_body(kOurs, "tunz", 1500));
  auto events = parse_link_events(d, kOurs);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, LinkEvent::Kind::link_changed);
  EXPECT_EQ(events[0].name, "tunz");
  EXPECT_EQ(events[0].mtu, 1500u);
}

TEST(LinkEvents, OtherInterfacesAreIgnored) {
  Bytes d;
  message(d, RTM_NEWLINK, link_body(kOurs + 1, "eth0", 1500));
  message(d, RTM_DELLINK, link_body(kOurs + 1, "eth0", 1500));
  message(d, RTM_NEWADDR, address_body(kOurs + 1, AF_INET, {10, 0, 0, 1}, 24));
  EXPECT_TRUE(parse_link_events(d, kOurs).empty());
}

TEST(LinkEvents, SeveralMessagesInOneDatagram) {
  Bytes d;
  message(d, RTM_NEWLINK, link_body(kOurs, "tun0", std::nullopt));
  message(d, RTM_DELLINK, link_body(kOurs, "tun0", 1400));
  auto events = parse_link_events(d, kOurs);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[0].mtu.has_value());
  EXPECT_EQ(events[1].kind, LinkEvent::Kind::link_deleted);
}

TEST(LinkEvents, Ipv4AddressesComeAndGo) {
  Bytes d;
  message(d, RTM_NEWADDR, address_body(kOurs, AF_INET, {10, 9, 0, 1}, 24));
  message(d, RTM_DELADDR, address_body(kOurs, AF_INET, {10, 9, 0, 1}, 24));
  message(d, RTM_NEWADDR, address_body(kOurs, AF_INET6, {0xfd, 0, 0, 0}, 64));
  auto events = parse_link_events(d, kOurs);
  ASSERT_EQ(events.size(), 2u) << "IPv6 is not followed";
  EXPECT_EQ(events[0].kind, LinkEvent::Kind::address_added);
  EXPECT_EQ(events[0].address, (Ipv4Prefix{{10, 9, 0, 1}, 24}));
  EXPECT_EQ(events[1].kind, LinkEvent::Kind::address_removed);
}

TEST(LinkEvents, AnExplicitBroadcastIsKept) {
  Bytes body = address_body(kOurs, AF_INET, {10, 12, 0, 1}, 24);
  std::array<std::uint8_t, 4> brd{10, 12, 0, 128};
  attribute(body, IFA_BROADCAST, brd.data(), 4);
  Bytes d;
  message(d, RTM_NEWADDR, body);
  auto events = parse_link_events(d, kOurs);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].address.broadcast, brd);
}

TEST(LinkEvents, AnIpv4PrefixBeyond32BitsIsRefused) {
  Bytes d;
  message(d, RTM_NEWADDR, address_body(kOurs, AF_INET, {10, 9, 0, 1}, 33));
  message(d, RTM_NEWADDR, address_body(kOurs, AF_INET, {10, 9, 0, 1}, 32));
  auto events = parse_link_events(d, kOurs);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].address.prefix_len, 32u);
}

TEST(LinkEvents, PointToPointTakesTheLocalAddressNotThePeer) {
  Bytes d;
  message(
      d, RTM_NEWADDR,
      address_body(kOurs, AF_INET, {10, 9, 0, 1}, 32, std::array<std::uint8_t, 4>{10, 9, 0, 2}));
  auto events = parse_link_events(d, kOurs);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].address, (Ipv4Prefix{{10, 9, 0, 1}, 32}));
}

TEST(LinkEvents, AnOverrunAsksForAResynchronisation) {
  Bytes body(sizeof(nlmsgerr), std::byte{0});
  nlmsgerr err{};
  err.error = -ENOBUFS;
  std::memcpy(body.data(), &err, sizeof err);
  Bytes d;
  message(d, NLMSG_ERROR, body);
  auto events = parse_link_events(d, kOurs);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, LinkEvent::Kind::overrun);
}

TEST(LinkEvents, CutShortInputStopsTheWalk) {
  Bytes d;
  message(d, RTM_NEWLINK, link_body(kOurs, "tun0", 1400));
  std::size_t whole = d.size();
  message(d, RTM_NEWLINK, link_body(kOurs, "tun1", 1500));
  for (std::size_t cut = whole + 1; cut < d.size(); ++cut) {
    auto events = parse_link_events({d.data(), cut}, kOurs);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.front().name, "tun0");
    EXPECT_EQ(events.back().kind, LinkEvent::Kind::overrun) << "cut at " << cut;
  }
  // An attribute claiming more bytes than the message has is not read past.
  Bytes body = link_body(kOurs, "tun0", std::nullopt);
  rtattr huge{static_cast<unsigned short>(4000), IFLA_MTU};
  append(body, &huge, sizeof huge);
  Bytes bad;
  message(bad, RTM_NEWLINK, body);
  auto events = parse_link_events(bad, kOurs);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(events[0].mtu.has_value());
}

}  // namespace
}  // namespace tund::device
