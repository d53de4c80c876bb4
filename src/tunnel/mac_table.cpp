#include "tund/tunnel/mac_table.hpp"

#include "tund/proto/timers.hpp"

namespace tund::tunnel {

MacTable::Key MacTable::key_of(MacBytes mac) {
  Key key = 0;
  for (std::byte b : mac) key = (key << 8) | std::to_integer<Key>(b);
  return key;
}

bool MacTable::expired(time_point seen, time_point now) {
  return now - seen >= proto::kMacAgeing;
}

Learned MacTable::learn(MacBytes mac, PortId port, time_point now) {
  const Key key = key_of(mac);
  if (is_group_mac(mac) || key == 0) return Learned::refused;
  auto it = entries_.find(key);
  if (it == entries_.end()) return add(key, port, now);
  if (expired(it->second.seen, now)) {
    // Gone quiet long enough to be forgotten: learn it afresh, wherever it is now.
    erase(it);
    return add(key, port, now);
  }
  return relearn(it->second, port, now);
}

Learned MacTable::relearn(Entry& entry, PortId port, time_point now) {
  Order& order = ports_[port];
  const bool moved = entry.port != port;
  if (moved && order.size() >= proto::kMacsPerPort) {
    entries_.erase(order.front());
    order.pop_front();
  }
  // Splicing moves the list node itself: no allocation, and `place` stays valid.
  order.splice(order.end(), ports_[entry.port], entry.place);
  if (moved && ports_[entry.port].empty()) ports_.erase(entry.port);
  entry.port = port;
  entry.seen = now;
  return moved ? Learned::moved : Learned::refreshed;
}

Learned MacTable::add(Key key, PortId port, time_point now) {
  Order& order = ports_[port];
  if (order.size() >= proto::kMacsPerPort) {
    // The least recently seen is the likeliest to be gone (and expired ones come first).
    entries_.erase(order.front());
    order.pop_front();
  }
  order.push_back(key);
  entries_.emplace(key, Entry{port, now, std::prev(order.end())});
  return Learned::added;
}

std::vector<std::array<std::byte, 6>> MacTable::macs_of(PortId port, time_point now) const {
  std::vector<std::array<std::byte, 6>> macs;
  auto order = ports_.find(port);
  if (order == ports_.end()) return macs;
  for (Key key : order->second) {
    if (expired(entries_.at(key).seen, now)) continue;
    std::array<std::byte, 6> mac{};
    for (std::size_t i = 0; i < mac.size(); ++i)
      mac[i] = static_cast<std::byte>((key >> (8 * (5 - i))) & 0xff);
    macs.push_back(mac);
  }
  return macs;
}

void MacTable::erase(std::unordered_map<Key, Entry>::iterator it) {
  auto port = ports_.find(it->second.port);
  port->second.erase(it->second.place);
  if (port->second.empty()) ports_.erase(port);
  entries_.erase(it);
}

std::optional<PortId> MacTable::lookup(MacBytes mac, time_point now) const {
  auto it = entries_.find(key_of(mac));
  if (it == entries_.end() || expired(it->second.seen, now)) return std::nullopt;
  return it->second.port;
}

std::size_t MacTable::forget_port(PortId port) {
  auto it = ports_.find(port);
  if (it == ports_.end()) return 0;
  for (Key key : it->second) entries_.erase(key);
  const std::size_t forgotten = it->second.size();
  ports_.erase(it);
  return forgotten;
}

std::size_t MacTable::expire(time_point now) {
  std::size_t dropped = 0;
  for (auto port = ports_.begin(); port != ports_.end();) {
    Order& order = port->second;
    // Each list is ordered by last sighting, so the expired ones are a prefix of it.
    while (!order.empty() && expired(entries_.at(order.front()).seen, now)) {
      entries_.erase(order.front());
      order.pop_front();
      ++dropped;
    }
    port = order.empty() ? ports_.erase(port) : std::next(port);
  }
  return dropped;
}

Forward forward(const MacTable& table, MacBytes destination, PortId ingress,
                util::Clock::time_point now) {
  if (is_group_mac(destination)) return {Forward::Kind::flood, 0, ingress};
  auto port = table.lookup(destination, now);
  if (!port) return {Forward::Kind::flood, 0, ingress};
  if (*port == ingress) return {Forward::Kind::drop, 0, ingress};
  return {Forward::Kind::one_port, *port, ingress};
}

}  // namespace tund::tunnel
