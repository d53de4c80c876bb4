#include "tund/tunnel/hub.hpp"

#include <algorithm>
#include <map>

namespace tund::tunnel {
namespace {

std::map<crypto::Key, const HubPeerSpec*> by_key(const std::vector<HubPeerSpec>& peers) {
  std::map<crypto::Key, const HubPeerSpec*> map;
  for (const auto& p : peers) map.emplace(p.public_key, &p);
  return map;
}

std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& n : names) {
    if (!text.empty()) text += ", ";
    text += n;
  }
  return text;
}

}  // namespace

HubChanges diff_hub(const std::vector<HubPeerSpec>& current, const std::vector<HubPeerSpec>& next) {
  HubChanges changes;
  auto before = by_key(current);
  for (const auto& p : next) {
    auto it = before.find(p.public_key);
    if (it == before.end())
      changes.added.push_back(p.name);
    else if (!(*it->second == p))
      changes.changed.push_back(p.name);
    else
      ++changes.unchanged;
  }
  auto after = by_key(next);
  for (const auto& p : current)
    if (!after.count(p.public_key)) changes.removed.push_back(p.name);
  return changes;
}

std::string describe(const HubChanges& changes, std::size_t peers) {
  std::string text = std::to_string(peers) + (peers == 1 ? " peer" : " peers");
  if (!changes.added.empty()) text += "; added " + join(changes.added);
  if (!changes.removed.empty()) text += "; removed " + join(changes.removed);
  if (!changes.changed.empty()) text += "; changed " + join(changes.changed);
  text += "; " + std::to_string(changes.unchanged) + " unchanged";
  return text;
}

}  // namespace tund::tunnel
