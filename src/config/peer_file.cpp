// One peer file of a hub's peers directory: the config file's line parser does the syntax
// (comments, quotes, UTF-8, unknown keys with hints); this gives each key its meaning.
#include <algorithm>
#include <functional>
#include <map>

#include "tund/config/checks.hpp"
#include "tund/config/config_file.hpp"
#include "tund/config/peer_files.hpp"
#include "tund/util/base64.hpp"
#include "tund/util/ip_prefix.hpp"
#include "tund/util/strings.hpp"

namespace tund::config {
namespace {

constexpr std::size_t kPublicKeySize = 32;                   // an X25519 public key
constexpr unsigned kMinKeepalive = 1, kMaxKeepalive = 3600;  // as --keepalive

const std::vector<OptionSpec>& peer_keys() {
  using Kind = OptionSpec::Kind;
  static const std::vector<OptionSpec> keys = {
      {"public-key", Kind::value, 0}, {"allowed-ips", Kind::value, 0}, {"psk", Kind::path, 0},
      {"keepalive", Kind::value, 0},  {"up", Kind::value, 0},          {"down", Kind::value, 0},
      {"disabled", Kind::value, 0}};  // a value, not a flag: `disabled = false` twice is seen
  return keys;
}

std::string where(const std::string& path, int line) {
  return path + " line " + std::to_string(line);
}

void take_public_key(PeerSpec& peer, const std::string& value, const std::string& at) {
  auto bytes = util::decode_base64(value);
  if (!bytes || bytes->size() != kPublicKeySize)
    throw ConfigFileError(at + ": public-key: '" + value +
                          "' is not a base64 32-byte key (as 'tund pubkey' prints one)");
  peer.public_key = value;
}

// `text` names a host inside a larger prefix ("10.8.0.5/24"): the prefix is what counts,
// as in wg(8), but the writer may have meant the host.
bool had_host_bits(const std::string& text, const util::IpPrefix& prefix) {
  auto host = util::parse_ip_prefix(text.substr(0, text.find('/')));
  return host && host->address != prefix.address;
}

void take_one_prefix(PeerSpec& peer, const std::string& text, int line, const std::string& at,
                     std::vector<std::string>* warnings) {
  std::string error;
  auto prefix = util::parse_ip_prefix(text, &error);
  // "10.8.0.2/32 10.8.0.3/32": two prefixes meant, as a list of wg(8)'s without commas.
  if (!prefix && text.find_first_of(" \t") != std::string::npos)
    error += " (separate prefixes with ',')";
  if (!prefix) throw ConfigFileError(at + ": allowed-ips: " + error);
  std::string canonical = util::to_string(*prefix);
  auto [it, added] = peer.lines.emplace("allowed-ips " + canonical, line);
  if (!added)
    throw ConfigFileError(at + ": allowed-ips: " + canonical + " is listed twice (line " +
                          std::to_string(it->second) + ")");
  if (warnings && had_host_bits(text, *prefix))
    warnings->push_back(at + ": allowed-ips: '" + text + "' has host bits set; it means " +
                        canonical);
  peer.allowed_ips.push_back(*prefix);
}

// A comma-separated list, as wg(8) writes AllowedIPs ("10.8.0.2/32, fd00:8::2/128").
void take_allowed_ips(PeerSpec& peer, const std::string& value, int line, const std::string& at,
                      std::vector<std::string>* warnings) {
  std::size_t start = 0;
  while (true) {
    std::size_t comma = value.find(',', start);
    std::string item = util::trim(value.substr(start, comma - start));
    if (item.empty())
      throw ConfigFileError(at + ": allowed-ips: an empty entry in '" + value + "'");
    take_one_prefix(peer, item, line, at, warnings);
    if (comma == std::string::npos) return;
    start = comma + 1;
  }
}

void take_keepalive(PeerSpec& peer, const std::string& value, const std::string& at) {
  // Appended: GCC 12 -O3 reports a false -Wrestrict for "(" + std::to_string(...).
  std::string range = "(";
  range.append(std::to_string(kMinKeepalive)).append("-");
  range.append(std::to_string(kMaxKeepalive)).append(")");
  if (value.empty() ||
      !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw ConfigFileError(at + ": keepalive: '" + value + "' is not a number " + range);
  std::string significant = value.substr(std::min(value.find_first_not_of('0'), value.size()));
  unsigned long n = significant.size() > 9 ? kMaxKeepalive + 1ul : std::stoul("0" + significant);
  if (n < kMinKeepalive || n > kMaxKeepalive)
    throw ConfigFileError(at + ": keepalive: " + value + " is out of range " + range);
  peer.keepalive = std::chrono::seconds(n);
}

void take_psk(PeerSpec& peer, const std::string& value, const std::string& at) {
  std::string error = file_error(value, "psk file");
  if (!error.empty()) throw ConfigFileError(at + ": psk: " + error);
  peer.psk_file = value;
}

// Applies one entry; `warnings` may be null.
void take(PeerSpec& peer, const FileOption& e, const std::string& at,
          std::vector<std::string>* warnings) {
  if (e.name == "public-key") return take_public_key(peer, e.value, at);
  if (e.name == "allowed-ips") return take_allowed_ips(peer, e.value, e.line, at, warnings);
  if (e.name == "psk") return take_psk(peer, e.value, at);
  if (e.name == "keepalive") return take_keepalive(peer, e.value, at);
  if (e.name == "up") peer.up_command = e.value;
  if (e.name == "down") peer.down_command = e.value;
  if (e.name == "disabled") peer.disabled = flag_value(e.value, at + ": disabled");
}

}  // namespace

std::string peer_name_error(const std::string& name) {
  if (name.empty()) return "an empty peer name";
  if (name == "." || name == "..") return "'" + name + "' is not a peer name";
  bool valid = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
  if (!valid) return "'" + name + "' is not a peer name (letters, digits, '_', '.' and '-' only)";
  return "";
}

PeerSpec parse_peer_file(const std::string& text, const std::string& path,
                         std::vector<std::string>* warnings) {
  PeerSpec peer;
  peer.file = path;
  peer.name = path.substr(path.rfind('/') + 1);  // npos + 1 == 0: the whole path
  for (const FileOption& e : parse_config_text(text, path, peer_keys())) {
    std::string at = where(path, e.line);
    if (e.name != "allowed-ips" && peer.lines.count(e.name))
      throw ConfigFileError(at + ": '" + e.name + "' is set again (first on line " +
                            std::to_string(peer.lines[e.name]) + "); a peer file gives it once");
    peer.lines.emplace(e.name, e.line);  // allowed-ips: its first line
    take(peer, e, at, warnings);
  }
  if (peer.public_key.empty())
    throw ConfigFileError(path + ": no public-key (the peer's key, as 'tund pubkey' prints it)");
  return peer;
}

}  // namespace tund::config
