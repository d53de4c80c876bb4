#include "tund/link/checksum.hpp"

#include <array>
#include <bit>
#include <cstring>

namespace tund::link {
namespace {

// One's-complement sum of native-order 16-bit words, folded to 16 bits. The sum is
// byte-order independent up to a final swap (RFC 1071 section 2B), so the loop can read
// 8 bytes at a time in whatever order the CPU likes: this runs over every byte of every
// segment tund builds or merges, so it must not be the 2-bytes-per-step textbook loop.
std::uint16_t native_sum(const std::byte* data, std::size_t size) {
  std::uint64_t acc = 0;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    acc += (word & 0xffffffffu) + (word >> 32);  // no overflow below 2^31 iterations
  }
  for (; i + 2 <= size; i += 2) {
    std::uint16_t half;
    std::memcpy(&half, data + i, 2);
    acc += half;
  }
  if (i < size) {  // an odd trailing byte is the high byte of a zero-padded word
    const std::byte tail[2] = {data[i], std::byte{0}};
    std::uint16_t half;
    std::memcpy(&half, tail, 2);
    acc += half;
  }
  return checksum_fold(acc);
}

}  // namespace

std::uint32_t checksum_add(std::uint32_t sum, util::ConstByteSpan data) {
  std::uint16_t native = native_sum(data.data(), data.size());
  if constexpr (std::endian::native == std::endian::little)
    native = static_cast<std::uint16_t>((native >> 8) | (native << 8));
  return sum + native;
}

std::uint16_t ipv6_checksum(const std::byte* addresses, std::uint8_t next_header,
                            util::ConstByteSpan message) {
  std::array<std::byte, 8> tail{};  // upper-layer length (32 bits), 3 zero bytes, next header
  util::store_be32(tail.data(), static_cast<std::uint32_t>(message.size()));
  tail[7] = std::byte{next_header};
  std::uint32_t sum = checksum_add(0, {addresses, 32});
  sum = checksum_add(sum, tail);
  return checksum_finish(checksum_add(sum, message));
}

}  // namespace tund::link
