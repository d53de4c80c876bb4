#include "tund/crypto/keys.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "sodium_bytes.hpp"
#include "tund/util/bytes.hpp"
#include "tund/util/strings.hpp"

namespace tund::crypto {
namespace {

using util::trim;

// A directory opens fine and reads as nothing, which would surface as "not a key" or "no
// allowed keys": say what it is instead.
void require_regular_file(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw KeyError("cannot read " + what + " " + path + ": " + strerror(errno));
  if (S_ISDIR(st.st_mode)) throw KeyError(what + " " + path + " is a directory, not a file");
  if (!S_ISREG(st.st_mode)) throw KeyError(what + " " + path + " is not a regular file");
}

// A key file holds one key on one line (what tund genkey/genpsk/pubkey write); blank
// lines after it are fine, anything else means the file is not what it seems (two keys
// pasted together, a key with a note under it) and is refused rather than half-read.
std::string read_key_line(const std::string& path) {
  require_regular_file(path, "key file");
  std::ifstream in(path);
  if (!in) throw KeyError("cannot read key file " + path + ": " + strerror(errno));
  std::string line, rest;
  std::getline(in, line);
  for (int number = 2; std::getline(in, rest); ++number)
    if (!trim(rest).empty())
      throw KeyError("key file " + path + ": line " + std::to_string(number) +
                     ": text after the key (a key file holds one key on one line)");
  return trim(util::without_bom(line));
}

bool all_zero(const Key& key) {
  return std::all_of(key.begin(), key.end(), [](std::byte b) { return b == std::byte{0}; });
}

// u >= p = 2^255 - 19 (little-endian): 0xed..0xff, then thirty 0xff, then 0x7f; or any
// value with the top bit set.
bool non_canonical(const Key& key) {
  if ((key[31] & std::byte{0x80}) != std::byte{0}) return true;
  if (key[31] != std::byte{0x7f} || key[0] < std::byte{0xed}) return false;
  return std::all_of(key.begin() + 1, key.begin() + 31,
                     [](std::byte b) { return b == std::byte{0xff}; });
}

}  // namespace

void check_secret_key(const Key& key, const std::string& what) {
  if (all_zero(key)) throw KeyError(what + ": all zeros, not a generated key");
}

void check_public_key(const Key& key, const std::string& what) {
  if (all_zero(key)) throw KeyError(what + ": all zeros, not a public key");
  if (non_canonical(key))
    throw KeyError(what + ": not a canonical X25519 public key (not made by tund pubkey)");
  // Any private key gives the all-zero shared secret with a low-order point (libsodium
  // refuses it), so one random key is enough to tell.
  Key probe = random_private_key();
  Key shared;
  bool ok = x25519(shared, probe, key);
  wipe(probe.data(), probe.size());
  wipe(shared.data(), shared.size());
  if (!ok) throw KeyError(what + ": a low-order point, not a public key");
}

std::string to_base64(const Key& key) {
  char out[sodium_base64_ENCODED_LEN(kKeySize, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(out, sizeof out, uc(key.data()), key.size(), sodium_base64_VARIANT_ORIGINAL);
  return out;
}

Key key_from_base64(const std::string& text, const std::string& what) {
  Key key;
  std::size_t len = 0;
  std::string t = trim(util::without_bom(text));  // `tund pubkey < key` with a BOM too
  if (t.size() != 44 ||
      sodium_base642bin(uc(key.data()), key.size(), t.data(), t.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != kKeySize)
    throw KeyError(what + ": not a base64-encoded 32-byte key");
  return key;
}

Key read_secret_key_file(const std::string& path) {
  require_regular_file(path, "key file");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw KeyError("cannot read key file " + path + ": " + strerror(errno));
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    throw KeyError("key file " + path + " is accessible by group or others (mode " + mode +
                   "); run: chmod 600 " + path +
                   " (if it is a public key, it belongs in --peer-key or --allow)");
  }
  Key key = key_from_base64(read_key_line(path), "key file " + path);
  check_secret_key(key, "key file " + path);
  return key;
}

Key read_public_key(const std::string& key_or_file) {
  std::string t = trim(key_or_file);
  bool literal = t.size() == 44 && t.back() == '=';
  std::string what = literal ? "key '" + t + "'" : "public key file " + key_or_file;
  Key key = key_from_base64(literal ? t : read_key_line(key_or_file), what);
  check_public_key(key, what);
  return key;
}

std::vector<Key> read_allow_file(const std::string& path) {
  require_regular_file(path, "allow file");
  std::ifstream in(path);
  if (!in) throw KeyError("cannot read allow file " + path + ": " + strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return parse_allow_list(text.str(), path);
}

std::vector<Key> parse_allow_list(const std::string& text, const std::string& name) {
  std::istringstream in(util::without_bom(text));
  std::vector<Key> keys;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string t = trim(line.substr(0, line.find('#')));
    if (t.empty()) continue;
    std::string what = name + ":" + std::to_string(number);
    keys.push_back(key_from_base64(t, what));
    check_public_key(keys.back(), what);
  }
  return keys;
}

Tai64n tai64n_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  Tai64n out{};
  util::store_be64(out.data(), (std::uint64_t{1} << 62) + static_cast<std::uint64_t>(ts.tv_sec));
  util::store_be32(out.data() + 8, static_cast<std::uint32_t>(ts.tv_nsec));
  return out;
}

std::string tai64n_to_string(const Tai64n& stamp) {
  auto unix_secs =
      static_cast<std::time_t>(util::load_be64(stamp.data()) - (std::uint64_t{1} << 62));
  tm utc{};
  char text[40] = "?";
  if (gmtime_r(&unix_secs, &utc)) std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &utc);
  return text;
}

}  // namespace tund::crypto
