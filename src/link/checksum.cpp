#include "tund/link/checksum.hpp"

namespace tund::link {

std::uint32_t checksum_add(std::uint32_t sum, const std::uint8_t* data, std::size_t size) {
  std::size_t i = 0;
  for (; i + 1 < size; i += 2) sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
  if (i < size) sum += static_cast<std::uint32_t>(data[i] << 8);
  return sum;
}

std::uint16_t checksum_finish(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

}  // namespace tund::link
