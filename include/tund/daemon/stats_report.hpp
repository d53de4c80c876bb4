// Formats the engine's, peer's and transport's counters as one log line (SIGUSR1 and at exit).
#pragma once

#include <string>

#include "tund/crypto/message.hpp"
#include "tund/device/tun_device.hpp"
#include "tund/link/responder.hpp"
#include "tund/transport/transport.hpp"
#include "tund/tunnel/engine.hpp"

namespace tund::daemon {

// `datagram`: the transport is UDP. `crypto`: the handshake counters (encrypted only).
std::string format_stats(const tunnel::EngineStats& engine, const tunnel::PeerStats& peer,
                         const transport::TransportStats& transport, bool datagram,
                         const crypto::SessionStats* crypto = nullptr);
// Every peer's counters added up (the hub's totals for format_stats).
tunnel::PeerStats total_peer_stats(const tunnel::Engine& engine);
// Hub: one line per peer: "peer NAME: endpoint ADDR:PORT|none, up|down, rx N frames N
// bytes, tx N frames N bytes, sessions N, peer-changes N; dropped: spoofed N queue-full N
// (queued N)".
std::string format_peer_stats(const tunnel::Peer& peer);
std::string format_link_stats(const link::ResponderStats& link);
// `last_bad` says why the last unusable GSO read was dropped (empty: none was).
std::string format_offload_stats(const device::OffloadStats& offload, const std::string& last_bad);

}  // namespace tund::daemon
