// Every timer and rate of tund's protocol behaviour, in one place beside wire.hpp (as the
// Linux WireGuard driver's messages.h holds REKEY_AFTER_TIME and friends). What a second
// implementation must match to interoperate is in wire.hpp; what is here decides how
// quickly tund notices, retries and gives up. Units are in the types.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace tund::proto {

using std::chrono::milliseconds;
using std::chrono::seconds;

// --- Liveness (UDP; TCP relies on the connection and its TCP keepalives) --------------
inline constexpr seconds kDefaultKeepalive{10};
// A UDP peer that sent nothing for this many keepalive intervals is considered gone.
inline constexpr int kKeepalivesMissedBeforeDead = 3;
// Encrypted client: frames sent and nothing authenticated back for this long means the
// server lost our session (a restart): handshake again rather than wait for the peer
// timeout. An idle tunnel notices after keepalive + this (both sides send keepalives).
inline constexpr seconds kStaleSession{3};
// Passive keepalive: a side that received frames but sent nothing for this long answers
// with a keepalive, so a one-way flow does not look like a dead session to its sender.
inline constexpr seconds kPassiveKeepalive{1};
// A plaintext probe (keepalive) is answered at most this often per peer: nothing to
// amplify, no ping-pong between two peers.
inline constexpr seconds kProbeAnswerInterval{1};
// Plaintext client: after this many unanswered probes, one line saying what may be wrong.
inline constexpr unsigned kProbesBeforeWarning = 5;
// How often peer and transport timers are checked: fine enough for a 250 ms first probe,
// cheap when idle.
inline constexpr milliseconds kTimerTick{250};

// --- Handshakes (encrypted mode) -------------------------------------------------------
inline constexpr milliseconds kRekeyAfterTime{120000};
inline constexpr milliseconds kRejectAfterTime{180000};
inline constexpr std::uint64_t kRekeyAfterMessages = std::uint64_t{1} << 48;
// A keypair is refused for sending this many messages past kRekeyAfterMessages.
inline constexpr std::uint64_t kRejectAfterMessagesMargin = std::uint64_t{1} << 20;
// Unanswered initiations are retried after a doubling, capped, jittered delay.
inline constexpr milliseconds kHandshakeRetryInitial{2000};
inline constexpr milliseconds kHandshakeRetryCap{16000};
// Handshake initiations a responder processes, all sources together
// (crypto/initiation_limiter.hpp). One costs about 0.26 ms of CPU on the 2-core development
// machine (consume_initiation + respond: five X25519; tests/bench/crypto_cost.sh), so 1500
// per second is about 0.4 core, half a core with the transport's work on the same
// messages. The burst lets 1000 clients that start at once (even behind one NAT address)
// be answered at once: 1125 pass before the server counts as under load.
inline constexpr double kInitiationsPerSecond = 1500, kInitiationBurst = 1500;
// Under load (the per-source limit applies) while the global bucket is below this fraction
// of its burst, and for kUnderLoadHold after it last was (wireguard-go: UnderLoadAfterTime).
inline constexpr double kUnderLoadFraction = 0.25;
inline constexpr milliseconds kUnderLoadHold{1000};
// Under load only: initiations processed per source address, a burst, then a steady rate
// (wireguard-go's ratelimiter allows 20 per second, burst 5).
inline constexpr double kHandshakesPerSecond = 20, kHandshakeBurst = 5;
// TCP server: how long an accepted, unauthenticated connection may take to authenticate,
// and how many may wait at once by default (--max-pending).
inline constexpr seconds kHandshakeDeadline{10};
inline constexpr std::size_t kDefaultMaxPending = 16;
// While the cap is reached, accepting waits (the listen backlog holds new connections) so
// that a thousand clients starting together are not cut mid-handshake; but a pending
// connection older than this makes room for the next one (it is dropped), so silent
// strangers holding every slot cannot lock new clients out for kHandshakeDeadline.
inline constexpr milliseconds kPendingGrace{250};

// --- Reaching the server (client) ------------------------------------------------------
// Reconnect (TCP) and probe (UDP) backoff: doubling from here, capped, jittered.
inline constexpr milliseconds kBackoffInitial{250};
inline constexpr seconds kBackoffCap{5};
// A TCP connection counts as proven (and the backoff starts over) once it lived this long.
inline constexpr seconds kProvenAfter{5};
// A SYN into a black hole would otherwise wait for the kernel's ~2 minute SYN retries.
inline constexpr seconds kConnectTimeout{10};
// A plaintext connection closed by the server within this time, having received nothing,
// was refused rather than lost.
inline constexpr seconds kClosedAtOnce{3};
// UDP: a connect() sends nothing, so checking for a route this often costs nothing on the
// wire, and traffic resumes within about a second of the route coming back.
inline constexpr seconds kRouteRetry{1};
// UDP: an address that has not answered (probes or handshake) for this long: try the next.
inline constexpr seconds kAddressPatience{3};
// The server's name is looked up again at most this often while nothing answers.
inline constexpr seconds kLookupInterval{5};
// A lookup slower than this (a DNS server that does not answer) does not hold up a
// reconnect when addresses are known: they are used, and the answer is kept for later.
inline constexpr seconds kLookupPatience{3};

// --- TAP hub: the learning switch (tunnel/mac_table.hpp) ------------------------------
// A learned MAC is forgotten after this long without a frame from it (the IEEE 802.1D
// default ageing time, as Linux bridges use), so a host that moved or left is flooded to
// again rather than sent to a stale port.
inline constexpr seconds kMacAgeing{300};
// At most this many MACs are learned per port (peer or device): one peer spraying random
// source MACs evicts only its own entries and cannot grow the table without bound.
inline constexpr std::size_t kMacsPerPort = 256;
// Hub: packets held for one peer whose endpoint cannot take more (a slow or stalled
// client) before its own packets are dropped; the device and the other peers go on.
// 128 full-size packets (~190 KB) cover a burst of a TCP window; memory is only taken
// while a peer is backlogged.
inline constexpr std::size_t kPeerQueuePackets = 128;

// --- Errors that may persist: pause instead of spinning ---------------------------------
inline constexpr milliseconds kDeviceErrorPause{100};
inline constexpr milliseconds kReceiveErrorPause{100};
inline constexpr seconds kAcceptPause{1};
// UDP GSO found unusable on a path is tried again after this long.
inline constexpr seconds kGsoReprobe{30};

}  // namespace tund::proto
