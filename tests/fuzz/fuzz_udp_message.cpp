// The UDP datagram parser.
#include <cstdlib>

#include "tund/proto/udp_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = tund::proto::parse_udp_message({reinterpret_cast<const std::byte*>(data), size}, 1400);
  if (r.message && r.message->type == tund::proto::MessageType::data &&
      (r.message->body.empty() || r.message->body.size() > 1400))
    std::abort();
  return 0;
}
