// `tund show --dump`: one tab-separated line per peer for scripts, like `wg show all
// dump`. Every line has exactly 15 fields: an empty value is "(none)", and a tab or line
// break inside a value is escaped by printable(), so `cut -f` and `read` never misalign.
// Interface-level values ride on each of its peers' lines, as the interface name does;
// fields are only ever added at the end, so `cut -f N` of an older script keeps working.
#include "text.hpp"
#include "tund/control/render.hpp"

namespace tund::control {
namespace {

std::string field(std::string_view value) {
  return value.empty() ? std::string("(none)") : detail::printable(value);
}

// "61,39": the frames each thread sealed or opened, thread 0 (the event loop) first.
std::string numbers(const std::vector<std::uint64_t>& values) {
  std::string out;
  for (auto value : values) {
    if (!out.empty()) out += ',';
    out += std::to_string(value);
  }
  return field(out);
}

std::string list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return field(out);
}

void peer_line(std::string& out, const InterfaceStatus& s, const PeerStatus& p) {
  const auto& addresses = s.mode == "tap" ? p.macs : p.allowed_ips;
  const std::string fields[] = {field(s.interface),
                                field(p.name),
                                field(p.public_key),
                                state(p),
                                field(p.endpoint),
                                list(addresses),
                                std::to_string(p.latest_handshake),
                                std::to_string(p.rx_bytes),
                                std::to_string(p.tx_bytes),
                                std::to_string(p.rx_packets),
                                std::to_string(p.tx_packets),
                                std::to_string(detail::sum(p.dropped)),
                                field(p.cipher),
                                std::to_string(s.threads),
                                numbers(s.thread_frames)};
  for (const auto& f : fields) {
    out += f;
    out += '\t';
  }
  out.back() = '\n';
}

}  // namespace

std::string render_dump(const std::vector<InterfaceStatus>& statuses) {
  std::string out;
  for (const auto& status : statuses)
    for (const auto& peer : status.peers) peer_line(out, status, peer);
  return out;
}

}  // namespace tund::control
