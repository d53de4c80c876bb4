// `tund show --json`: one document, schema docs/tund-show.schema.json. Written with
// nlohmann::json (ordered, so the keys come in the order the schema documents them), never
// by hand; bytes that are not UTF-8 (an odd interface name) become U+FFFD rather than an
// exception.
#include <nlohmann/json.hpp>

#include "tund/control/render.hpp"

namespace tund::control {
namespace {

using Json = nlohmann::ordered_json;

Json counter_groups(const std::map<std::string, Counters>& groups) {
  Json out = Json::object();
  for (const auto& [group, counters] : groups) out[group] = Json(counters);
  return out;
}

Json peer_json(const PeerStatus& p) {
  return Json{{"name", p.name},
              {"public_key", p.public_key},
              {"state", state(p)},
              {"up", p.up},
              {"disabled", p.disabled},
              {"endpoint", p.endpoint},
              {"allowed_ips", p.allowed_ips},
              {"macs", p.macs},
              {"latest_handshake", p.latest_handshake},
              {"up_since", p.up_since},
              {"last_received", p.last_received},
              {"rx_bytes", p.rx_bytes},
              {"rx_packets", p.rx_packets},
              {"tx_bytes", p.tx_bytes},
              {"tx_packets", p.tx_packets},
              {"handshakes", p.handshakes},
              {"sessions", p.sessions},
              {"endpoint_changes", p.endpoint_changes},
              {"queued", p.queued},
              {"cipher", p.cipher},
              {"dropped", Json(p.dropped)}};
}

Json interface_json(const InterfaceStatus& s) {
  Json peers = Json::array();
  for (const auto& peer : s.peers) peers.push_back(peer_json(peer));
  return Json{{"interface", s.interface},
              {"mode", s.mode},
              {"role", s.role},
              {"transport", s.transport},
              {"listen_port", s.listen_port},
              {"remote", s.remote},
              {"public_key", s.public_key},
              {"version", s.version},
              {"pid", s.pid},
              {"started", s.started},
              {"now", s.now},
              {"mtu", s.mtu},
              {"peers_configured", s.peers_configured},
              {"peers_up", peers_up(s)},
              {"counters", counter_groups(s.counters)},
              {"peers", std::move(peers)}};
}

}  // namespace

std::string render_json(const std::vector<InterfaceStatus>& statuses) {
  Json interfaces = Json::array();
  for (const auto& status : statuses) interfaces.push_back(interface_json(status));
  Json document{{"schema_version", kJsonSchemaVersion}, {"interfaces", std::move(interfaces)}};
  auto text = document.dump(2, ' ', false, Json::error_handler_t::replace);
  text += '\n';
  return text;
}

}  // namespace tund::control
