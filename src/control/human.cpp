// Durations and sizes for people (`tund show`, systemd STATUS=), the way `wg show` writes
// them: "1 minute, 3 seconds", "1.20 KiB".
#include <cstdio>

#include "text.hpp"
#include "tund/control/render.hpp"

namespace tund::control {
namespace {

void append_part(std::string& out, std::int64_t count, const char* unit) {
  if (count == 0) return;
  if (!out.empty()) out += ", ";
  out += std::to_string(count);
  out += ' ';
  out += unit;
  if (count != 1) out += 's';
}

}  // namespace

std::string human_duration(std::int64_t seconds) {
  // A negative age (the clock stepped back) reads as none rather than as nonsense.
  if (seconds <= 0) return "0 seconds";
  constexpr std::int64_t kMinute = 60, kHour = 60 * kMinute, kDay = 24 * kHour, kYear = 365 * kDay;
  std::string out;
  append_part(out, seconds / kYear, "year");
  append_part(out, seconds % kYear / kDay, "day");
  append_part(out, seconds % kDay / kHour, "hour");
  append_part(out, seconds % kHour / kMinute, "minute");
  append_part(out, seconds % kMinute, "second");
  return out;
}

std::string human_bytes(std::uint64_t bytes) {
  if (bytes < 1024) return detail::concat(std::to_string(bytes), " B");
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  constexpr std::size_t kLast = sizeof kUnits / sizeof kUnits[0] - 1;
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  // Move up a unit as soon as two decimals would round to 1024.00 ("1.00 MiB", not
  // "1024.00 KiB").
  while (value >= 1023.995 && unit < kLast) {
    value /= 1024.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %s", value, kUnits[unit]);
  return buf;
}

std::string status_line(const InterfaceStatus& status) {
  auto up = peers_up(status);
  auto traffic = detail::concat("rx ", human_bytes(detail::total_rx_bytes(status)), " tx ",
                                human_bytes(detail::total_tx_bytes(status)));
  if (status.role == "hub")
    return detail::concat(std::to_string(up), " of ", std::to_string(status.peers_configured),
                          " peers up, ", traffic);
  // One peer: "server" on a client, "client" on a server (PeerStatus::name).
  std::string peer = status.peers.empty() ? std::string("peer") : status.peers.front().name;
  if (up > 0) return detail::concat(peer, " up, ", traffic);
  std::string waiting = detail::concat("waiting for the ", peer);
  if (!status.remote.empty()) waiting += detail::concat(" at ", status.remote);
  return waiting;
}

}  // namespace tund::control
