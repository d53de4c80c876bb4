// `tund show`: a human summary in the spirit of `wg show` (an "interface:" block, then a
// "peer:" block each, indented "label: value" lines). Every value from the daemon goes
// through printable(): a name with a control character cannot move the terminal's cursor.
#include <cmath>

#include "text.hpp"
#include "tund/control/render.hpp"

namespace tund::control {
namespace {

using detail::concat;
using detail::printable;

void line(std::string& out, std::string_view label, std::string_view value) {
  out += "  ";
  out += label;
  out += ": ";
  out += value;
  out += '\n';
}

std::string joined(const std::vector<std::string>& items) {
  if (items.empty()) return "(none)";
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += printable(item);
  }
  return out;
}

// "no_peer 3, malformed 1": the counters that are not zero; "" when all are.
std::string nonzero(const Counters& counters) {
  std::string out;
  for (const auto& [name, value] : counters) {
    if (value == 0) continue;
    if (!out.empty()) out += ", ";
    out += concat(printable(name), " ", std::to_string(value));
  }
  return out;
}

std::string ago(std::int64_t now, std::int64_t then) {
  return concat(human_duration(now - then), " ago");
}

// "2 (frames sealed/opened: 61% loop, 39% worker 1)": each thread's share of the frames,
// rounded to whole percents (so they may not add up to exactly 100); "1" without a pool.
std::string threads_text(const InterfaceStatus& s) {
  std::string out = std::to_string(s.threads);
  if (s.threads <= 1 || s.thread_frames.empty()) return out;
  long double total = 0;
  for (auto frames : s.thread_frames) total += static_cast<long double>(frames);
  if (total == 0) return concat(out, " (frames sealed/opened: none yet)");
  out += " (frames sealed/opened: ";
  for (std::size_t i = 0; i < s.thread_frames.size(); ++i) {
    auto share = std::llround(100 * static_cast<long double>(s.thread_frames[i]) / total);
    if (i != 0) out += ", ";
    std::string who = i == 0 ? std::string("loop") : concat("worker ", std::to_string(i));
    out += concat(std::to_string(share), "% ", who);
  }
  return out + ")";
}

void interface_block(std::string& out, const InterfaceStatus& s) {
  out += concat("interface: ", printable(s.interface), "\n");
  line(out, "mode", printable(s.mode));
  line(out, "role", printable(s.role));
  line(out, "transport", printable(s.transport));
  if (s.listen_port != 0) line(out, "listening port", std::to_string(s.listen_port));
  if (!s.remote.empty()) line(out, "remote", printable(s.remote));
  line(out, "public key", s.public_key.empty() ? "(none: plaintext)" : printable(s.public_key));
  line(out, "version", printable(s.version));
  line(out, "pid", std::to_string(s.pid));
  if (s.started != 0) line(out, "uptime", human_duration(s.now - s.started));
  line(out, "mtu", std::to_string(s.mtu));
  line(out, "threads", threads_text(s));
  line(out, "peers",
       concat(std::to_string(peers_up(s)), " of ", std::to_string(s.peers_configured), " up"));
  if (auto it = s.counters.find("dropped"); it != s.counters.end())
    if (auto drops = nonzero(it->second); !drops.empty()) line(out, "dropped", drops);
}

std::string state_text(const PeerStatus& p, std::int64_t now) {
  if (p.up && p.up_since != 0) return concat("up for ", human_duration(now - p.up_since));
  if (p.up || p.disabled || p.last_received == 0) return state(p);
  return concat("down, last heard ", ago(now, p.last_received));
}

void addresses(std::string& out, const InterfaceStatus& s, const PeerStatus& p) {
  bool hub = s.role == "hub";
  if (s.mode == "tap") {
    if (hub || !p.macs.empty()) line(out, "learned macs", joined(p.macs));
  } else if (hub || !p.allowed_ips.empty()) {
    line(out, "allowed ips", joined(p.allowed_ips));
  }
}

void peer_block(std::string& out, const InterfaceStatus& s, const PeerStatus& p) {
  out += concat("peer: ", printable(p.name), "\n");
  if (!p.public_key.empty()) line(out, "public key", printable(p.public_key));
  line(out, "state", state_text(p, s.now));
  if (!p.endpoint.empty()) line(out, "endpoint", printable(p.endpoint));
  addresses(out, s, p);
  if (p.latest_handshake != 0) line(out, "latest handshake", ago(s.now, p.latest_handshake));
  line(out, "transfer",
       concat(human_bytes(p.rx_bytes), " received, ", human_bytes(p.tx_bytes), " sent"));
  if (p.queued != 0) line(out, "queued", concat(std::to_string(p.queued), " frames"));
  if (auto drops = nonzero(p.dropped); !drops.empty()) line(out, "dropped", drops);
  if (!p.cipher.empty()) line(out, "cipher", printable(p.cipher));
}

}  // namespace

std::string render_text(const std::vector<InterfaceStatus>& statuses) {
  std::string out;
  for (const auto& status : statuses) {
    if (!out.empty()) out += '\n';
    interface_block(out, status);
    for (const auto& peer : status.peers) {
      out += '\n';
      peer_block(out, status, peer);
    }
  }
  return out;
}

}  // namespace tund::control
