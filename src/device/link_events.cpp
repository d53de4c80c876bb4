#include "tund/device/link_events.hpp"

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace tund::device {
namespace {

// Netlink structures are in host byte order and aligned to 4 bytes inside the datagram;
// they are copied out with memcpy so an unaligned buffer is never dereferenced.
template <typename T>
std::optional<T> read_struct(util::ConstByteSpan bytes, std::size_t at) {
  if (at > bytes.size() || bytes.size() - at < sizeof(T)) return std::nullopt;
  T value;
  std::memcpy(&value, bytes.data() + at, sizeof(T));
  return value;
}

// Calls `visit(type, payload)` for each rtattr in `attrs`; stops at the first malformed one.
template <typename Visit>
void for_each_attribute(util::ConstByteSpan attrs, Visit visit) {
  std::size_t at = 0;
  while (auto rta = read_struct<rtattr>(attrs, at)) {
    if (rta->rta_len < sizeof(rtattr) || rta->rta_len > attrs.size() - at) return;
    visit(rta->rta_type, attrs.subspan(at + RTA_LENGTH(0), rta->rta_len - RTA_LENGTH(0)));
    at += RTA_ALIGN(rta->rta_len);
  }
}

std::string attribute_string(util::ConstByteSpan value) {
  std::string text(reinterpret_cast<const char*>(value.data()), value.size());
  return text.substr(0, text.find('\0'));
}

std::optional<LinkEvent> parse_link(std::uint16_t type, util::ConstByteSpan body, int ifindex) {
  auto info = read_struct<ifinfomsg>(body, 0);
  if (!info || info->ifi_index != ifindex) return std::nullopt;
  LinkEvent event;
  event.kind = type == RTM_DELLINK ? LinkEvent::Kind::link_deleted : LinkEvent::Kind::link_changed;
  event.ifindex = info->ifi_index;
  for_each_attribute(body.subspan(NLMSG_ALIGN(sizeof(ifinfomsg))),
                     [&](unsigned short attr, util::ConstByteSpan value) {
                       if (attr == IFLA_IFNAME) event.name = attribute_string(value);
                       if (attr == IFLA_MTU && value.size() >= 4) {
                         std::uint32_t mtu;
                         std::memcpy(&mtu, value.data(), 4);
                         event.mtu = mtu;
                       }
                     });
  return event;
}

std::optional<LinkEvent> parse_address(std::uint16_t type, util::ConstByteSpan body, int ifindex) {
  auto info = read_struct<ifaddrmsg>(body, 0);
  // A prefix longer than 32 bits cannot be IPv4: refused here so that no user of the
  // event ever shifts by more than the address width (found by fuzz_link_events).
  if (!info || info->ifa_family != AF_INET || static_cast<int>(info->ifa_index) != ifindex ||
      info->ifa_prefixlen > 32)
    return std::nullopt;
  LinkEvent event;
  event.kind =
      type == RTM_DELADDR ? LinkEvent::Kind::address_removed : LinkEvent::Kind::address_added;
  event.ifindex = ifindex;
  event.address.prefix_len = info->ifa_prefixlen;
  // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on a
  // point-to-point link (and the same as IFA_LOCAL otherwise), so LOCAL wins.
  bool have_local = false, have_any = false;
  for_each_attribute(body.subspan(NLMSG_ALIGN(sizeof(ifaddrmsg))),
                     [&](unsigned short attr, util::ConstByteSpan value) {
                       if (attr == IFA_BROADCAST && value.size() >= 4) {
                         event.address.broadcast.emplace();
                         std::memcpy(event.address.broadcast->data(), value.data(), 4);
                         return;
                       }
                       if (value.size() < 4 || (attr != IFA_LOCAL && attr != IFA_ADDRESS)) return;
                       if (attr == IFA_ADDRESS && have_local) return;
                       std::memcpy(event.address.address.data(), value.data(), 4);
                       have_local = have_local || attr == IFA_LOCAL;
                       have_any = true;
                     });
  if (!have_any) return std::nullopt;
  return event;
}

std::optional<LinkEvent> parse_one(const nlmsghdr& header, util::ConstByteSpan body, int ifindex) {
  switch (header.nlmsg_type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
      return parse_link(header.nlmsg_type, body, ifindex);
    case RTM_NEWADDR:
    case RTM_DELADDR:
      return parse_address(header.nlmsg_type, body, ifindex);
    case NLMSG_ERROR: {
      auto err = read_struct<nlmsgerr>(body, 0);
      if (err && err->error == -ENOBUFS) return LinkEvent::overrun_event();
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

std::vector<LinkEvent> parse_link_events(util::ConstByteSpan datagram, int ifindex) {
  std::vector<LinkEvent> events;
  std::size_t at = 0;
  while (at < datagram.size()) {
    auto header = read_struct<nlmsghdr>(datagram, at);
    if (!header || header->nlmsg_len < sizeof(nlmsghdr) ||
        header->nlmsg_len > datagram.size() - at) {
      events.push_back(LinkEvent::overrun_event());  // cut short: re-read the state
      break;
    }
    auto body = datagram.subspan(at + NLMSG_HDRLEN, header->nlmsg_len - NLMSG_HDRLEN);
    if (auto event = parse_one(*header, body, ifindex)) events.push_back(std::move(*event));
    at += NLMSG_ALIGN(header->nlmsg_len);
  }
  return events;
}

}  // namespace tund::device
