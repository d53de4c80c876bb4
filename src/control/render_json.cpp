// `tund show --json`: one document, schema docs/tund-show.schema.json. Written with
// nlohmann::json (ordered, so the keys come in the order the schema documents them), never
// by hand; bytes that are not UTF-8 (an odd interface name) become U+FFFD rather than an
// exception.
#include <nlohmann/json.hpp>

#include "tund/control/render.hpp"

namespace tund::control {
namespace {

using Json = nlohmann::ordered_json;

// Objects are filled key by key: an initializer list copies every value once more, which
// made 1000 peers cost four times as long.
Json counter_groups(const std::map<std::string, Counters>& groups) {
  Json out = Json::object();
  for (const auto& [group, counters] : groups) out[group] = counters;
  return out;
}

void fill_peer(Json& j, const PeerStatus& p) {
  j["name"] = p.name;
  j["public_key"] = p.public_key;
  j["state"] = state(p);
  j["up"] = p.up;
  j["disabled"] = p.disabled;
  j["endpoint"] = p.endpoint;
  j["allowed_ips"] = p.allowed_ips;
  j["macs"] = p.macs;
  j["latest_handshake"] = p.latest_handshake;
  j["up_since"] = p.up_since;
  j["last_received"] = p.last_received;
  j["rx_bytes"] = p.rx_bytes;
  j["rx_packets"] = p.rx_packets;
  j["tx_bytes"] = p.tx_bytes;
  j["tx_packets"] = p.tx_packets;
  j["handshakes"] = p.handshakes;
  j["sessions"] = p.sessions;
  j["endpoint_changes"] = p.endpoint_changes;
  j["queued"] = p.queued;
  j["cipher"] = p.cipher;
  j["dropped"] = p.dropped;
}

void fill_interface(Json& j, const InterfaceStatus& s) {
  j["interface"] = s.interface;
  j["mode"] = s.mode;
  j["role"] = s.role;
  j["transport"] = s.transport;
  j["listen_port"] = s.listen_port;
  j["remote"] = s.remote;
  j["public_key"] = s.public_key;
  j["version"] = s.version;
  j["pid"] = s.pid;
  j["started"] = s.started;
  j["now"] = s.now;
  j["mtu"] = s.mtu;
  j["peers_configured"] = s.peers_configured;
  j["peers_up"] = peers_up(s);
  j["threads"] = s.threads;
  j["thread_frames"] = s.thread_frames;
  j["counters"] = counter_groups(s.counters);
  Json& peers = j["peers"] = Json::array();
  for (const auto& peer : s.peers) fill_peer(peers.emplace_back(Json::object()), peer);
}

}  // namespace

std::string render_json(const std::vector<InterfaceStatus>& statuses) {
  Json document = Json::object();
  document["schema_version"] = kJsonSchemaVersion;
  Json& interfaces = document["interfaces"] = Json::array();
  for (const auto& status : statuses)
    fill_interface(interfaces.emplace_back(Json::object()), status);
  auto text = document.dump(2, ' ', false, Json::error_handler_t::replace);
  text += '\n';
  return text;
}

}  // namespace tund::control
