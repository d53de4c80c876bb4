#include "tund/transport/pktinfo.hpp"

#include <cstring>

namespace tund::transport {
namespace {

asio::ip::address from_v6(const in6_addr& raw, unsigned ifindex) {
  asio::ip::address_v6::bytes_type bytes;
  std::memcpy(bytes.data(), &raw, bytes.size());
  asio::ip::address_v6 v6(bytes);
  if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6);
  // Only a link-local address needs its link named; elsewhere the route picks it.
  if (v6.is_link_local()) v6.scope_id(ifindex);
  return v6;
}

}  // namespace

bool enable_pktinfo(int fd, bool ipv6) {
  int on = 1;
  bool v4 = ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) == 0;
  bool v6 = ipv6 && ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on) == 0;
  return v4 || v6;
}

bool read_pktinfo(const cmsghdr& c, asio::ip::address& local) {
  // CMSG_DATA is not const-correct in glibc; the data is only read.
  auto* data = CMSG_DATA(const_cast<cmsghdr*>(&c));
  if (c.cmsg_level == IPPROTO_IP && c.cmsg_type == IP_PKTINFO &&
      c.cmsg_len >= CMSG_LEN(sizeof(in_pktinfo))) {
    in_pktinfo info;
    std::memcpy(&info, data, sizeof info);
    local = asio::ip::address_v4(ntohl(info.ipi_spec_dst.s_addr));
    return true;
  }
  if (c.cmsg_level == IPPROTO_IPV6 && c.cmsg_type == IPV6_PKTINFO &&
      c.cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
    in6_pktinfo info;
    std::memcpy(&info, data, sizeof info);
    local = from_v6(info.ipi6_addr, info.ipi6_ifindex);
    return true;
  }
  return false;
}

std::size_t write_pktinfo(cmsghdr* c, const asio::ip::address& source) {
  if (source.is_unspecified()) return 0;
  if (source.is_v4()) {
    in_pktinfo info{};  // ipi_ifindex 0: the route picks the interface
    info.ipi_spec_dst.s_addr = htonl(source.to_v4().to_uint());
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof info);
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
    return CMSG_SPACE(sizeof info);
  }
  in6_pktinfo info{};
  auto bytes = source.to_v6().to_bytes();
  std::memcpy(&info.ipi6_addr, bytes.data(), bytes.size());
  info.ipi6_ifindex = static_cast<unsigned>(source.to_v6().scope_id());
  c->cmsg_level = IPPROTO_IPV6;
  c->cmsg_type = IPV6_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof info);
  std::memcpy(CMSG_DATA(c), &info, sizeof info);
  return CMSG_SPACE(sizeof info);
}

}  // namespace tund::transport
