#include "tund/tunnel/frame_check.hpp"

#include <arpa/inet.h>

#include <cstdio>

namespace tund::tunnel {
namespace {

constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kEthernetHeader = 14;

unsigned ip_version(util::ConstByteSpan frame) {
  return std::to_integer<unsigned>(frame[0]) >> 4;
}

std::string describe_ip(util::ConstByteSpan frame) {
  char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
  unsigned proto = 0;
  if (ip_version(frame) == 4 && frame.size() >= kIpv4MinHeader) {
    inet_ntop(AF_INET, frame.data() + 12, src, sizeof src);
    inet_ntop(AF_INET, frame.data() + 16, dst, sizeof dst);
    proto = std::to_integer<unsigned>(frame[9]);
  } else if (ip_version(frame) == 6 && frame.size() >= kIpv6Header) {
    inet_ntop(AF_INET6, frame.data() + 8, src, sizeof src);
    inet_ntop(AF_INET6, frame.data() + 24, dst, sizeof dst);
    proto = std::to_integer<unsigned>(frame[6]);
  } else {
    return "non-IP";
  }
  return "IPv" + std::to_string(ip_version(frame)) + " " + src + " > " + dst + " proto " +
         std::to_string(proto);
}

}  // namespace

bool plausible_frame(util::ConstByteSpan frame, device::LinkLayer link) {
  if (link == device::LinkLayer::ethernet) return frame.size() >= kEthernetHeader;
  if (frame.empty()) return false;
  switch (ip_version(frame)) {
    case 4:
      return frame.size() >= kIpv4MinHeader;
    case 6:
      return frame.size() >= kIpv6Header;
    default:
      return false;
  }
}

std::string describe_frame(util::ConstByteSpan frame, device::LinkLayer link) {
  std::string text = std::to_string(frame.size()) + " bytes ";
  if (link == device::LinkLayer::ip) return text + (frame.empty() ? "empty" : describe_ip(frame));
  if (frame.size() < kEthernetHeader) return text + "runt Ethernet frame";
  char type[16];
  std::snprintf(type, sizeof type, "0x%04x", util::load_be16(frame.data() + 12));
  return text + "Ethernet type " + type;
}

}  // namespace tund::tunnel
