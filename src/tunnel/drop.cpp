#include "tund/tunnel/drop.hpp"

namespace tund::tunnel {

const char* name(Drop reason) {
  switch (reason) {
    case Drop::no_peer:
      return "no-peer";
    case Drop::malformed:
      return "malformed";
    case Drop::device_down:
      return "device-down";
    case Drop::too_big:
      return "too-big";
    case Drop::bad_datagram:
      return "bad-datagram";
    case Drop::refused:
      return "refused";
    case Drop::rate_limited:
      return "rate-limited";
    case Drop::oversize:
      return "oversize";
    case Drop::spoofed:
      return "spoofed";
    case Drop::queue_full:
      return "queue-full";
    case Drop::link_local:
      return "link-local";
  }
  return "?";
}

}  // namespace tund::tunnel
