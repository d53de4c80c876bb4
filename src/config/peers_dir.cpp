// A hub's peers directory: every peer file read, then checked as a set (keys, overlapping
// allowed-ips, the number of peers), so a reload sees the same errors as a start.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <span>
#include <tuple>

#include "tund/config/config_file.hpp"
#include "tund/config/peer_files.hpp"

namespace tund::config {
namespace {

std::string join(const std::string& dir, const std::string& name) {
  return !dir.empty() && dir.back() == '/' ? dir + name : dir + "/" + name;
}

// The names of the peer files in `dir`, sorted; hidden entries (".", "..", ".alice.swp")
// skipped.
std::vector<std::string> peer_file_names(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    throw ConfigFileError("--peers-dir: cannot read peers directory " + dir + ": " +
                          std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) throw ConfigFileError("--peers-dir: " + dir + " is not a directory");
  std::unique_ptr<DIR, int (*)(DIR*)> handle(::opendir(dir.c_str()), ::closedir);
  if (!handle)
    throw ConfigFileError("--peers-dir: cannot read peers directory " + dir + ": " +
                          std::strerror(errno));
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(handle.get())) {
    if (entry->d_name[0] != '.') names.emplace_back(entry->d_name);
    errno = 0;
  }
  if (errno != 0)
    throw ConfigFileError("--peers-dir: cannot read peers directory " + dir + ": " +
                          std::strerror(errno));
  std::sort(names.begin(), names.end());
  return names;
}

PeerSpec read_peer(const std::string& dir, const std::string& name,
                   std::vector<std::string>& warnings) {
  std::string path = join(dir, name);
  std::string bad_name = peer_name_error(name);
  if (!bad_name.empty())
    throw ConfigFileError("--peers-dir: " + path + ": " + bad_name +
                          "; rename it, or hide it with a leading '.'");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw ConfigFileError("--peers-dir: " + path +
                          " is a directory; each peer is one file directly in the peers directory");
  return parse_peer_file(read_config_text(path, "peer file"), path, &warnings);
}

std::string line_of(const PeerSpec& peer, const std::string& key) {
  auto it = peer.lines.find(key);
  return peer.file + (it == peer.lines.end() ? "" : " line " + std::to_string(it->second));
}

// Two files with one key: which one is the client? (The crypto layer knows peers by key.)
void check_keys(const std::vector<PeerSpec>& peers) {
  std::vector<const PeerSpec*> by_key;
  for (const PeerSpec& p : peers) by_key.push_back(&p);
  std::stable_sort(by_key.begin(), by_key.end(),
                   [](auto* a, auto* b) { return a->public_key < b->public_key; });
  for (std::size_t i = 1; i < by_key.size(); ++i)
    if (by_key[i]->public_key == by_key[i - 1]->public_key)
      throw ConfigFileError(line_of(*by_key[i], "public-key") + ": public-key is the same as " +
                            line_of(*by_key[i - 1], "public-key") + " (one peer file per key)");
}

struct OwnedPrefix {
  util::IpPrefix prefix;
  const PeerSpec* peer;
};

bool address_order(const OwnedPrefix& a, const OwnedPrefix& b) {
  return std::tie(a.prefix.family, a.prefix.address, a.prefix.length) <
         std::tie(b.prefix.family, b.prefix.address, b.prefix.length);
}

[[noreturn]] void overlap(const OwnedPrefix& outer, const OwnedPrefix& inner) {
  std::string a = util::to_string(outer.prefix), b = util::to_string(inner.prefix);
  throw ConfigFileError(line_of(*inner.peer, "allowed-ips " + b) + ": allowed-ips " + b +
                        (a == b ? " is also in " : " lies inside ") +
                        line_of(*outer.peer, "allowed-ips " + a) + "'s " + a +
                        ": a packet to it would have two peers (give each address to one)");
}

// In address order a prefix follows every prefix containing it, so the prefixes still
// "open" (a stack, at most 129 deep) are exactly those containing the current one.
void check_overlaps(const std::vector<PeerSpec>& peers) {
  std::vector<OwnedPrefix> all;
  for (const PeerSpec& p : peers)
    if (!p.disabled)
      for (const util::IpPrefix& prefix : p.allowed_ips) all.push_back({prefix, &p});
  std::sort(all.begin(), all.end(), address_order);
  std::vector<const OwnedPrefix*> open;
  for (const OwnedPrefix& current : all) {
    auto bytes = std::span(current.prefix.address).first(address_size(current.prefix.family));
    while (!open.empty() && !util::contains(open.back()->prefix, current.prefix.family, bytes))
      open.pop_back();
    for (const OwnedPrefix* outer : open)
      if (outer->peer != current.peer) overlap(*outer, current);
    open.push_back(&current);
  }
}

void check_count(const std::vector<PeerSpec>& peers, const std::string& dir, unsigned max) {
  auto enabled = std::count_if(peers.begin(), peers.end(), [](auto& p) { return !p.disabled; });
  if (static_cast<unsigned long>(enabled) > max)
    throw ConfigFileError("--peers-dir: " + dir + " holds " + std::to_string(enabled) +
                          " enabled peers, more than --max-peers " + std::to_string(max) +
                          " (raise --max-peers, or set 'disabled = true' in some)");
}

}  // namespace

PeersDir read_peers_dir(const std::string& dir, unsigned max_peers) {
  PeersDir result;
  for (const std::string& name : peer_file_names(dir))
    result.peers.push_back(read_peer(dir, name, result.warnings));
  check_keys(result.peers);
  check_overlaps(result.peers);
  check_count(result.peers, dir, max_peers);
  return result;
}

}  // namespace tund::config
