// Private to crypto/: libsodium takes unsigned char, tund's bytes are std::byte (the same
// size and alignment, and unsigned char may alias any object), so the two files that call
// libsodium convert here and nowhere else.
#pragma once

#include <cstddef>

namespace tund::crypto {

inline const unsigned char* uc(const std::byte* p) {
  return reinterpret_cast<const unsigned char*>(p);
}
inline unsigned char* uc(std::byte* p) {
  return reinterpret_cast<unsigned char*>(p);
}

}  // namespace tund::crypto
