// The hub's peer file parser (and the CIDR parser under it): any text either becomes a
// PeerSpec that keeps the promises of peer_files.hpp or a ConfigFileError; it never
// crashes. The whole input is also tried as one prefix, which must round-trip.
#include <cstdlib>
#include <string>

#include "tund/config/config_file.hpp"
#include "tund/config/peer_files.hpp"
#include "tund/util/base64.hpp"
#include "tund/util/ip_prefix.hpp"

namespace {

using tund::util::IpPrefix;

// Normalised (no host bits), and its text parses back to the same value.
void check_prefix(const IpPrefix& prefix) {
  unsigned max = tund::util::max_prefix_length(prefix.family);
  if (prefix.length > max) std::abort();
  for (unsigned bit = prefix.length; bit < 128; ++bit)
    if ((std::to_integer<unsigned>(prefix.address[bit / 8]) >> (7 - bit % 8)) & 1u) std::abort();
  auto again = tund::util::parse_ip_prefix(tund::util::to_string(prefix));
  if (!again || !(*again == prefix)) std::abort();
}

void check_peer(const tund::config::PeerSpec& peer) {
  auto key = tund::util::decode_base64(peer.public_key);
  if (!key || key->size() != 32 || peer.name != "fuzz" || !peer.lines.count("public-key"))
    std::abort();
  for (const IpPrefix& prefix : peer.allowed_ips) {
    check_prefix(prefix);
    if (!peer.lines.count("allowed-ips " + tund::util::to_string(prefix))) std::abort();
  }
  if (peer.keepalive && (peer.keepalive->count() < 1 || peer.keepalive->count() > 3600))
    std::abort();
  for (const auto& [name, line] : peer.lines)
    if (line < 1) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  if (auto prefix = tund::util::parse_ip_prefix(text, &error))
    check_prefix(*prefix);
  else if (error.empty())
    std::abort();  // a refusal always says why
  try {
    std::vector<std::string> warnings;
    // A directory that does not exist: a psk key is checked (stat) and refused, never read.
    check_peer(tund::config::parse_peer_file(text, "/nonexistent/tund-fuzz/fuzz", &warnings));
  } catch (const tund::config::ConfigFileError&) {
  }
  return 0;
}
