// Base64 decoding (RFC 4648 section 4, the standard alphabet with '=' padding), for the
// modules that read keys as text but may not use libsodium (config/ reads peer files).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace tund::util {

// The bytes `text` encodes, or nullopt: a character outside the alphabet (whitespace
// included), a length that is not a multiple of 4, misplaced or missing padding, or
// non-zero bits in the last character's unused part (a non-canonical encoding, which
// libsodium's sodium_base642bin refuses too, so both agree on what a key is).
std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text);

}  // namespace tund::util
