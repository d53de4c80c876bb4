// `tund show --prometheus` and GET /metrics: the Prometheus text exposition format 0.0.4
// (prometheus.io/docs/instrumenting/exposition_formats/). A family's samples must be one
// group under one HELP and TYPE, so samples are collected by family first (across all
// interfaces) and written at the end. Naming follows prometheus.io/docs/practices/naming:
// counters end in _total, gauges do not, units in the name (_bytes, _seconds).
// Interface counter groups (status.hpp) map to families by the table below; a group it
// does not list becomes tund_<group>_<name>_total, so a new counter needs no change here.
#include <map>
#include <utility>

#include "text.hpp"
#include "tund/control/render.hpp"

namespace tund::control {
namespace {

using detail::concat;
using Labels = std::vector<std::pair<std::string, std::string>>;

// A label value (quote = true) or HELP text: UTF-8, with backslash and line feed escaped,
// and in a label value the double quote.
std::string escaped(std::string_view raw, bool quote) {
  std::string out;
  for (char c : detail::valid_utf8(raw)) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && quote)
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

// A metric name part from a counter or group name: [a-zA-Z0-9_] only.
std::string name_part(std::string_view raw) {
  std::string out(raw);
  for (char& c : out) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) c = '_';
  }
  return out;
}

class Exposition {
 public:
  void add(const std::string& name, const char* type, std::string_view help, const Labels& labels,
           const std::string& value) {
    auto [it, added] = families_.try_emplace(name);
    if (added) {
      order_.push_back(name);
      it->second.header =
          concat("# HELP ", name, " ", escaped(help, false), "\n# TYPE ", name, " ", type, "\n");
    }
    std::string& samples = it->second.samples;
    samples += name;
    samples += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i != 0) samples += ',';
      samples += concat(labels[i].first, "=\"", escaped(labels[i].second, true), "\"");
    }
    samples += concat("} ", value, "\n");
  }

  std::string text() const {
    std::string out;
    for (const auto& name : order_) {
      const auto& family = families_.at(name);
      out += family.header;
      out += family.samples;
    }
    return out;
  }

 private:
  struct Family {
    std::string header, samples;
  };
  std::vector<std::string> order_;  // first seen first
  std::map<std::string, Family> families_;
};

struct GroupFamily {
  const char* group;
  const char* family;
  const char* label;
  const char* help;
};
const GroupFamily kGroupFamilies[] = {
    {"dropped", "tund_dropped_packets_total", "reason",
     "Packets and messages the interface dropped, by reason."},
    {"handshake", "tund_handshakes_total", "result", "Handshakes, by result."},
    {"crypto", "tund_crypto_refused_messages_total", "reason",
     "Encrypted messages refused, by reason."},
};

void add_counter_group(Exposition& e, const InterfaceStatus& s, const std::string& group,
                       const Counters& counters) {
  for (const auto& g : kGroupFamilies) {
    if (group != g.group) continue;
    for (const auto& [name, value] : counters)
      e.add(g.family, "counter", g.help, {{"interface", s.interface}, {g.label, name}},
            std::to_string(value));
    return;
  }
  for (const auto& [name, value] : counters)
    e.add(concat("tund_", name_part(group), "_", name_part(name), "_total"), "counter",
          concat("The ", group, " counter ", name, " (docs/CONTROL.md)."),
          {{"interface", s.interface}}, std::to_string(value));
}

// The --threads pool: no tund_thread_frames_total series without one (nothing counts).
void add_threads(Exposition& e, const InterfaceStatus& s) {
  e.add("tund_threads", "gauge",
        "Threads that seal and open data frames (--threads; 1 without a worker pool).",
        {{"interface", s.interface}}, std::to_string(s.threads));
  for (std::size_t i = 0; i < s.thread_frames.size(); ++i)
    e.add("tund_thread_frames_total", "counter",
          "Frames each thread sealed or opened (thread 0: the event loop's own).",
          {{"interface", s.interface}, {"thread", std::to_string(i)}},
          std::to_string(s.thread_frames[i]));
}

void add_interface(Exposition& e, const InterfaceStatus& s) {
  const Labels iface{{"interface", s.interface}};
  e.add("tund_build_info", "gauge", "The version of tund serving the interface (value 1).",
        {{"interface", s.interface}, {"version", s.version}}, "1");
  e.add("tund_interface_info", "gauge", "The interface's mode, role, transport and key (value 1).",
        {{"interface", s.interface},
         {"mode", s.mode},
         {"role", s.role},
         {"transport", s.transport},
         {"public_key", s.public_key}},
        "1");
  e.add("tund_start_time_seconds", "gauge", "When the daemon started, Unix seconds.", iface,
        std::to_string(s.started));
  e.add("tund_mtu", "gauge", "The tunnel MTU, bytes.", iface, std::to_string(s.mtu));
  e.add("tund_peers_configured", "gauge", "Peers configured (hub: enabled peer files).", iface,
        std::to_string(s.peers_configured));
  e.add("tund_peers_up", "gauge", "Peers up now.", iface, std::to_string(peers_up(s)));
  add_threads(e, s);
  for (const auto& [group, counters] : s.counters) add_counter_group(e, s, group, counters);
}

struct PeerCounter {
  const char* family;
  std::uint64_t PeerStatus::*member;
  const char* help;
};
const PeerCounter kPeerCounters[] = {
    {"tund_peer_receive_bytes_total", &PeerStatus::rx_bytes, "Frame bytes received from the peer."},
    {"tund_peer_transmit_bytes_total", &PeerStatus::tx_bytes, "Frame bytes sent to the peer."},
    {"tund_peer_receive_packets_total", &PeerStatus::rx_packets, "Frames received from the peer."},
    {"tund_peer_transmit_packets_total", &PeerStatus::tx_packets, "Frames sent to the peer."},
    {"tund_peer_handshakes_total", &PeerStatus::handshakes, "Handshakes completed with the peer."},
    {"tund_peer_sessions_total", &PeerStatus::sessions, "Times the peer came up."},
    {"tund_peer_endpoint_changes_total", &PeerStatus::endpoint_changes,
     "Times the peer's endpoint changed."},
};

void add_peer(Exposition& e, const InterfaceStatus& s, const PeerStatus& p) {
  const Labels who{{"interface", s.interface}, {"peer", p.name}};
  e.add("tund_peer_info", "gauge",
        "The peer's key, endpoint (its last one while down) and cipher (value 1).",
        {{"interface", s.interface},
         {"peer", p.name},
         {"public_key", p.public_key},
         {"endpoint", p.endpoint},
         {"cipher", p.cipher}},
        "1");
  e.add("tund_peer_up", "gauge", "1 when the peer is up.", who, p.up ? "1" : "0");
  for (const auto& c : kPeerCounters)
    e.add(c.family, "counter", c.help, who, std::to_string(p.*c.member));
  for (const auto& [reason, value] : p.dropped)
    e.add("tund_peer_dropped_packets_total", "counter", "Packets of the peer dropped, by reason.",
          {{"interface", s.interface}, {"peer", p.name}, {"reason", reason}},
          std::to_string(value));
  e.add("tund_peer_last_handshake_timestamp_seconds", "gauge",
        "The latest completed handshake, Unix seconds (0: never).", who,
        std::to_string(p.latest_handshake));
  e.add("tund_peer_last_receive_timestamp_seconds", "gauge",
        "When anything was last received from the peer, Unix seconds (0: never).", who,
        std::to_string(p.last_received));
  e.add("tund_peer_queued_frames", "gauge", "Frames waiting in the peer's outbound queue.", who,
        std::to_string(p.queued));
}

}  // namespace

std::string render_prometheus(const std::vector<InterfaceStatus>& statuses) {
  Exposition e;
  for (const auto& status : statuses) {
    add_interface(e, status);
    for (const auto& peer : status.peers) add_peer(e, status, peer);
  }
  return e.text();
}

}  // namespace tund::control
