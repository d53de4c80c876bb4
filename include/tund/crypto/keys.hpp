// Keys on disk and on the command line: base64 (standard alphabet, padded, 44 characters
// for 32 bytes, as WireGuard writes them), key files that must not be readable by group or
// others, and allow-lists of public keys. Errors are KeyError with a one-line message.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "tund/crypto/primitives.hpp"

namespace tund::crypto {

class KeyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string to_base64(const Key& key);
// Throws KeyError naming `what` when `text` is not a base64 32-byte key.
Key key_from_base64(const std::string& text, const std::string& what);

// A secret key file (private key, psk): refused if group/other may read it, if it holds
// more than the key's one line, or if the key is all zeros (check_secret_key).
Key read_secret_key_file(const std::string& path);
// Throws KeyError naming `what` for an all-zero key: an empty slot, never a generated one.
void check_secret_key(const Key& key, const std::string& what);
// A public key given as base64 on the command line or as a file holding it; checked with
// check_public_key.
Key read_public_key(const std::string& key_or_file);
// One base64 public key per line; blank lines and '#' comments allowed; each checked.
std::vector<Key> read_allow_file(const std::string& path);

// Throws KeyError naming `what` unless `key` is a usable X25519 public key: not all zeros,
// a canonical encoding (u < 2^255 - 19, top bit clear, as every X25519 implementation
// writes them), and not of low order (one of the points whose Diffie-Hellman result is
// the same for every private key, so a handshake with it would prove nothing: RFC 7748
// section 6.1, and Noise rev 34 section 12.1).
void check_public_key(const Key& key, const std::string& what);
// The same, from text already read (`name` is used in error messages).
std::vector<Key> parse_allow_list(const std::string& text, const std::string& name);

// TAI64N timestamp (8-byte seconds with the 2^62 offset + 4-byte nanoseconds, big-endian):
// strictly increasing per initiator, so a captured initiation cannot be replayed.
using Tai64n = std::array<std::byte, 12>;
Tai64n tai64n_now();
// "2026-11-30 13:20:01 UTC" for a TAI64N timestamp (the nanoseconds left out).
std::string tai64n_to_string(const Tai64n& stamp);

}  // namespace tund::crypto
