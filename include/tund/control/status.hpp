// What a running tund reports about itself: the interface and each peer, as plain values.
// The daemon builds it (daemon/status_snapshot.cpp, on its event-loop thread, by copying
// counters: nothing on the packet path waits for it); the control protocol carries it
// (records.hpp, docs/CONTROL.md); `tund show` and the metrics endpoint render it
// (render.hpp). No Asio, no I/O: a value type.
//
// Units: bytes and packets are counts since the daemon started; times are Unix seconds
// (UTC, 0 = never/none); addresses in one textual form for both families: an endpoint is
// "198.18.0.1:55555" or "[fd00::1]:55555" (RFC 5952 text, brackets per RFC 3986), a prefix
// "10.9.0.0/24" or "fd00:9::/64", a MAC "02:00:00:00:00:01" (lower case).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tund::control {

// The control protocol's version (every reply begins "protocol = 1") and the JSON
// document's "schema_version" (docs/tund-show.schema.json); raised on an incompatible
// change, never for an added field.
inline constexpr int kProtocolVersion = 1;
inline constexpr int kJsonSchemaVersion = 1;

// Counters by name, sorted; names are lower case words joined by '_' (a drop reason keeps
// its stats-line spelling with '-' replaced by '_': "queue_full").
using Counters = std::map<std::string, std::uint64_t>;

struct PeerStatus {
  std::string name;        // hub: the peer file's name; single peer: "server" or "client"
  std::string public_key;  // base64 (44 characters); empty: plaintext tunnel or not known yet
  bool up = false;
  bool disabled = false;                       // hub: listed with disabled = true (never up)
  std::string endpoint;                        // where it is now; empty: none
  std::vector<std::string> allowed_ips;        // hub TUN: its prefixes (sorted as configured)
  std::vector<std::string> macs;               // hub TAP: source MACs learned from it (sorted)
  std::int64_t latest_handshake = 0;           // completed handshake (encrypted); 0 = never
  std::int64_t up_since = 0;                   // when it last came up; 0 = down
  std::int64_t last_received = 0;              // anything heard from it; 0 = never
  std::uint64_t rx_bytes = 0, rx_packets = 0;  // frames delivered from it (frame bytes)
  std::uint64_t tx_bytes = 0, tx_packets = 0;  // frames sent to it (frame bytes)
  std::uint64_t handshakes = 0;                // completed handshakes (encrypted)
  std::uint64_t sessions = 0;                  // times it came up
  std::uint64_t endpoint_changes = 0;          // it moved (NAT rebinding, a newer client)
  std::uint64_t queued = 0;                    // hub: frames waiting in its outbound queue now
  std::string cipher;  // "ChaCha20-Poly1305", "AES-256-GCM"; "none": plaintext
  Counters dropped;    // by reason: "spoofed", "queue_full" (hub); all present, 0 included

  bool operator==(const PeerStatus&) const = default;  // tests and the fuzz round trip
};

struct InterfaceStatus {
  std::string interface;          // the device's name now
  std::string mode;               // "tun" or "tap"
  std::string role;               // "server", "client" or "hub"
  std::string transport;          // "tcp" or "udp"
  std::uint16_t listen_port = 0;  // server/hub: the port it listens on; client: 0
  std::string remote;             // client: the server as configured, HOST:PORT; else ""
  std::string public_key;         // own key, base64; empty: plaintext
  std::string version;            // tund's version ("0.1.0")
  std::int64_t pid = 0;
  std::int64_t started = 0;            // Unix seconds
  std::int64_t now = 0;                // when this status was taken (Unix seconds)
  unsigned mtu = 0;                    // the tunnel MTU now
  std::uint64_t peers_configured = 0;  // hub: enabled peer files; else 1
  // The threads that seal and open data frames (--threads, issue 16): the event loop's own
  // plus the worker pool's helpers. 1 without a pool (plaintext, --threads 1, or a pool
  // that could not start); also what a reply of an older tund, which lacks it, reads as.
  unsigned threads = 1;
  // Frames each of those threads sealed or opened since the daemon started, from
  // util::WorkerPool::items_per_thread(): index 0 the event loop's thread, i >= 1 worker i;
  // threads entries with a pool, empty without one (nothing counts frames then). Read
  // (relaxed loads) only when a status is taken, on the event loop between two batches, so
  // exact; the per-packet path does not change for it.
  std::vector<std::uint64_t> thread_frames;
  // Interface-level counters by group, each sorted by name. Groups and names
  // (docs/CONTROL.md lists them; the renderers need no change for a new one):
  //   "device":    reads, writes, read_errors, write_errors, above_mtu
  //   "offload":   super_packets_read, segments_made, super_packets_written,
  //                segments_merged, bad_super_packets
  //   "link":      arp_replies, echo_replies, unreachable_sent, too_big_sent,
  //                rate_limited, ignored_malformed, dropped_too_big, errors_withheld,
  //                neighbor_advertisements
  //   "dropped":   every tunnel::Drop reason (no_peer, malformed, ...), and the transport's
  //                refusals (zero_length, truncated, tx_failed)
  //   "handshake": completed, failed, refused
  //   "crypto":    auth_failed, replayed, unknown_session, malformed, rate_limited
  //   "transport": rx_messages, rx_bytes, tx_messages, tx_bytes, connections,
  //                refused_connections, accept_paused, accept_errors
  //   "switch":    (TAP hub) macs_learned, mac_moves, mac_refused
  //   "control":   the control socket's requests, denied, bad_requests, timed_out,
  //                refused_busy
  std::map<std::string, Counters> counters;
  std::vector<PeerStatus> peers;  // hub: every peer file's peer, by name; else the one peer

  bool operator==(const InterfaceStatus&) const = default;
};

// How many peers are up.
std::size_t peers_up(const InterfaceStatus& status);
// "up", "down" or "disabled" (the word every form of `tund show` uses).
const char* state(const PeerStatus& peer);

}  // namespace tund::control
