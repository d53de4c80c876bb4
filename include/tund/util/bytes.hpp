// Load/store helpers for wire headers, big-endian (network byte order) and the one
// little-endian kind (virtio-net), the only ones in tund: every module reads and writes
// header fields through these. Header-only and constexpr so the codecs stay
// allocation-free and the fuzz targets see everything inline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tund::util {

using ByteSpan = std::span<std::byte>;
using ConstByteSpan = std::span<const std::byte>;

constexpr std::uint8_t load_u8(const std::byte* p) {
  return std::to_integer<std::uint8_t>(*p);
}

constexpr std::uint16_t load_be16(const std::byte* p) {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                    std::to_integer<unsigned>(p[1]));
}

constexpr std::uint32_t load_be32(const std::byte* p) {
  return (std::uint32_t{load_be16(p)} << 16) | load_be16(p + 2);
}

constexpr std::uint64_t load_be64(const std::byte* p) {
  return (std::uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}

constexpr void store_be16(std::byte* p, std::uint16_t v) {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v & 0xffu);
}

constexpr void store_be32(std::byte* p, std::uint32_t v) {
  store_be16(p, static_cast<std::uint16_t>(v >> 16));
  store_be16(p + 2, static_cast<std::uint16_t>(v & 0xffffu));
}

constexpr void store_be64(std::byte* p, std::uint64_t v) {
  store_be32(p, static_cast<std::uint32_t>(v >> 32));
  store_be32(p + 4, static_cast<std::uint32_t>(v & 0xffffffffu));
}

// Little-endian, for the one little-endian header tund handles: virtio-net's (offload/).
constexpr std::uint16_t load_le16(const std::byte* p) {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) |
                                    (std::to_integer<unsigned>(p[1]) << 8));
}

constexpr void store_le16(std::byte* p, std::uint16_t v) {
  p[0] = static_cast<std::byte>(v & 0xffu);
  p[1] = static_cast<std::byte>(v >> 8);
}

inline ConstByteSpan as_bytes(const void* data, std::size_t size) {
  return {static_cast<const std::byte*>(data), size};
}

}  // namespace tund::util
