// The rtnetlink decoder on arbitrary datagrams: the kernel is trusted, but a decoder that
// walks length fields must never read past the datagram whatever those fields say. The
// first byte picks the ifindex the decoder filters on; decoded events must be sane.
#include <cstdlib>

#include "tund/device/link_events.hpp"

using namespace tund;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  int ifindex = data[0];
  auto bytes = reinterpret_cast<const std::byte*>(data + 1);
  auto events = device::parse_link_events({bytes, size - 1}, ifindex);
  for (const auto& e : events) {
    if (e.kind != device::LinkEvent::Kind::overrun && e.ifindex != ifindex) std::abort();
    if (e.address.prefix_len > 32) std::abort();
  }
  return 0;
}
