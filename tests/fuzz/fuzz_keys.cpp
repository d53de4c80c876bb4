// Key parsing: base64 keys and allow-lists; any text is a key list or a KeyError.
#include <string>

#include "tund/crypto/keys.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    tund::crypto::key_from_base64(text, "fuzz");
  } catch (const tund::crypto::KeyError&) {
  }
  try {
    tund::crypto::parse_allow_list(text, "fuzz");
  } catch (const tund::crypto::KeyError&) {
  }
  return 0;
}
