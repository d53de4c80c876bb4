// The forms of `tund show` (README "Status and metrics"), each from statuses already
// taken (status.hpp); pure functions. Times are shown relative to each status's `now`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tund/control/status.hpp"

namespace tund::control {

// Human summary in the spirit of `wg show`: an "interface: NAME" block (mode, role,
// transport, listening port or remote, public key, uptime, MTU, "threads: 2 (frames
// sealed/opened: 61% loop, 39% worker 1)" or "threads: 1", peers up), then one
// "peer: NAME" block each (key, state, endpoint, allowed ips or learned MACs, latest
// handshake "1 minute, 3 seconds ago", transfer "1.20 MiB received, 3.40 GiB sent",
// drops by reason when any, cipher). Interfaces separated by a blank line.
std::string render_text(const std::vector<InterfaceStatus>& statuses);
// One JSON document (nlohmann::json), schema docs/tund-show.schema.json:
// {"schema_version": 1, "interfaces": [ {...}, ... ]}; numbers as numbers, times as Unix
// seconds, keys in snake_case, every field always present.
std::string render_json(const std::vector<InterfaceStatus>& statuses);
// Tab-separated, one line per peer, no header (wg show all dump's spirit), columns:
// interface name public_key state endpoint allowed_ips|macs (comma-separated, "(none)"
// when empty) latest_handshake rx_bytes tx_bytes rx_packets tx_packets dropped(sum)
// cipher, then the interface's threads and thread_frames (comma-separated, thread 0
// first); empty values written as "(none)" so every line has 15 fields.
std::string render_dump(const std::vector<InterfaceStatus>& statuses);
// Prometheus text exposition format 0.0.4 (prometheus.io/docs/instrumenting/
// exposition_formats): HELP and TYPE once per family, every series labelled
// interface="NAME"; per peer: tund_peer_receive_bytes_total, tund_peer_transmit_bytes_total,
// tund_peer_receive_packets_total, tund_peer_transmit_packets_total,
// tund_peer_dropped_packets_total{reason}, tund_peer_last_handshake_timestamp_seconds,
// tund_peer_up, tund_peer_info{peer,public_key,endpoint,cipher} (value 1; the labels that
// change live are on this series only; the others carry interface and peer); interface
// counters by group (status.hpp) and tund_build_info{version}, tund_start_time_seconds,
// tund_mtu, tund_peers_up, tund_peers_configured, tund_threads and
// tund_thread_frames_total{thread} (one per entry of thread_frames: none without a pool).
// docs/CONTROL.md lists every family.
std::string render_prometheus(const std::vector<InterfaceStatus>& statuses);

// "1 minute, 3 seconds" (largest units first, zero parts left out; "0 seconds").
std::string human_duration(std::int64_t seconds);
// "0 B", "512 B", "1.50 KiB", "3.40 GiB" (IEC units, two decimals).
std::string human_bytes(std::uint64_t bytes);
// systemd STATUS=: "3 of 5 peers up, rx 1.20 GiB tx 3.40 GiB" (hub), "peer up, rx ...
// tx ..." or "waiting for the peer" (one peer).
std::string status_line(const InterfaceStatus& status);

}  // namespace tund::control
