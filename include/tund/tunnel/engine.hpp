// The tunnel engine: moves frames between a device and a transport, and owns the peers
// (exactly one today; the hub will hold many: ../shared/ARCHITECTURE.md). It sees only
// the device and transport interfaces, so tests run two engines against each other with
// fakes and a manual clock, without root or sockets.
//
// Outbound flow (device -> net), engine_outbound.cpp:
//   1. wait until the device is readable
//   2. read each packet straight into the transport's message slot for the peer's
//      endpoint, behind the room for its header (no copy)
//   3. the link responder may answer it locally instead (ARP/ping for the link address,
//      ICMP unreachable when no peer is up for it, fragmentation needed when too big)
//   4. otherwise the peer heads or seals it in place, and it is committed
//   5. after a batch, or when the device is drained, flush: one send for the batch
//   6. if the peer's endpoint is not writable, stop reading the device until the
//      transport says so (backpressure: the kernel's device queue absorbs bursts, then
//      drops, as a NIC does)
//   7. with no peer up, packets are read, answered by the responder or dropped (counted)
// Inbound flow (net -> device), engine_inbound.cpp:
//   1. the transport delivers a message with the endpoint it came from
//   2. datagram transports: the 4-byte header is checked (plaintext: data/keepalive)
//   3. the message goes to its peer: plaintext, the one peer; encrypted, an initiation
//      is rate-limited per source and authenticated by the identity (then answered by the
//      peer of that key), a response or transport message goes to the peer whose session
//      owns its receiver index; the peer's session opens it (replay-checked)
//   4. a frame that cannot be a packet of the link's kind is dropped and counted
//   5. the frame is written to the device, whatever our MTU (a peer with a larger MTU is
//      logged once per new largest size); a full queue or a down interface drops it
// Hub mode (a server with a peers directory; engine_hub.cpp, engine_hub_peers.cpp): many
// peers, each known by its public key. TUN routes by key (WireGuard's cryptokey routing):
// a device packet goes to the peer whose allowed-ips hold its destination (longest prefix,
// allowed_ips.hpp), and a peer's packet is delivered only if its source is inside that
// peer's allowed-ips (else dropped and counted: spoofed). TAP is a learning switch
// (mac_table.hpp): the device and the peers are ports. The device is read into the
// engine's buffer, then copied into the routed peer's message; a peer that cannot take
// it now queues it (its own bounded queue), so a stalled peer never stops the device
// reads or the other peers. Responses and transport messages find their peer through
// the index map (index_map.hpp), initiations through the key map.
// Workers (--threads, engine_batch.cpp): encrypted, the AEAD of a batch's frames (a device
// read's, a socket read's) runs on util::WorkerPool's threads; everything else stays on
// the event loop's thread, so peers, sessions and counters have one owner and no locks.
// Timers: each proto::kTimerTick every peer checks its own (peer.hpp).
// The device itself (DeviceObserver, engine_device.cpp): an MTU set on the live device
// becomes the tunnel MTU; a rename is logged; its IPv4 prefixes go to the responder (no
// ICMP errors for their broadcasts); when it is gone (deleted, or its fd fails with a
// "gone" error) the engine stops and calls the failure handler once. An error on the
// device fd that does not mean "gone" is retried after a pause, never in a tight loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tund/device/device.hpp"
#include "tund/link/responder.hpp"
#include "tund/transport/transport.hpp"
#include "tund/tunnel/allowed_ips.hpp"
#include "tund/tunnel/drop.hpp"
#include "tund/tunnel/hub.hpp"
#include "tund/tunnel/index_map.hpp"
#include "tund/tunnel/mac_table.hpp"
#include "tund/tunnel/peer.hpp"
#include "tund/util/clock.hpp"
#include "tund/util/lifetime.hpp"
#include "tund/util/log.hpp"
#include "tund/util/worker_pool.hpp"

namespace tund::tunnel {

// The device's port in the TAP switch; peers' ids start above it.
inline constexpr PortId kDevicePort = 0;

struct EngineStats {
  std::uint64_t device_reads = 0;   // packets read from the device
  std::uint64_t device_writes = 0;  // packets written to the device
  std::uint64_t device_write_errors = 0;
  std::uint64_t device_read_errors = 0;
  std::uint64_t answered_locally = 0;    // frames the link responder replied to
  std::uint64_t received_above_mtu = 0;  // delivered, though larger than our MTU
  std::uint64_t largest_received = 0;    // the largest such packet (IP bytes)
  DropCounters dropped;                  // by reason (drop.hpp)
  // TAP hub switch: source MACs that moved to another port (roaming, or a loop), and
  // frames whose source MAC cannot be learned (group or all-zero).
  std::uint64_t mac_moves = 0, mac_refused = 0;
};

// What the engine is built from. Everything referenced outlives the engine.
struct EngineParts {
  device::Device& device;
  transport::Transport& transport;
  util::Logger& log;
  link::Responder* responder = nullptr;  // answers link-local traffic (optional)
  crypto::Identity* identity = nullptr;  // encrypted mode
  // The one peer; in hub mode, the template of every peer (its session settings).
  PeerConfig peer;
  // Hub mode (server, encrypted): the peers to start with (may be none).
  std::optional<std::vector<HubPeerSpec>> hub;
  util::Backoff probe_backoff;  // plaintext client probes
  const util::Clock& clock = util::steady_clock();
  // Where refused input is rate-limited (not owned; shared with the transport so both
  // draw on one budget of log lines); nullptr: the engine's own.
  util::LogLimiter* wire_complaints = nullptr;
  // Seals and opens each batch's frames on its threads (encrypted; not owned). nullptr or
  // one thread: every frame on the event loop's thread as it comes.
  util::WorkerPool* workers = nullptr;
};

// Below this much cipher work (bytes of frames) a batch stays on the loop's thread:
// handing it over costs a futex wake and a helper's context switch, a few microseconds of
// CPU on each side — what sealing ~10 KB takes — so small batches (a ping, a burst of TCP
// ACKs, a lightly loaded tunnel) would pay more than they share. 48 KB is about 35 full
// frames, 40 µs of AES-GCM.
inline constexpr std::size_t kParallelBytes = 48 * 1024;

class Engine final : private transport::Receiver,
                     private device::DeviceObserver,
                     private link::Reachability {
 public:
  explicit Engine(EngineParts parts);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void start();
  // Idempotent. The device and transport are closed; nothing is read or written after.
  void stop();
  // The peers' timers: the owner calls it every proto::kTimerTick (the daemon from its
  // event loop, tests after moving their manual clock), so the engine needs no timer.
  void on_timer();

  const EngineStats& stats() const { return stats_; }
  // Not in hub mode: the one peer.
  const Peer& peer() const { return *peers_.front(); }
  bool hub() const { return hub_; }
  // TAP hub: MACs in the switch's table now (expired ones not yet swept included).
  std::size_t macs_learned() const { return macs_.size(); }
  // Every peer (one, or the hub's, in the order they were added).
  const std::vector<std::unique_ptr<Peer>>& peers() const { return peers_; }
  // Hub: the peers as configured now (the last set_hub_peers, or the start's).
  const std::vector<HubPeerSpec>& hub_specs() const { return hub_specs_; }
  // TAP hub: the source MACs learned from `peer` and not expired (status reports).
  std::vector<std::array<std::byte, 6>> macs_of(const Peer& peer) const {
    return macs_.macs_of(peer.id(), clock_.now());
  }
  // The operator's `tund disconnect PEER` (Peer::disconnect): `peer` is a hub peer's name
  // or its public key (base64); with one peer, "server" on a client, "client" on a
  // server, or its public key. Its sessions are wiped, its connection closed, it goes
  // down (the observer hears it) and may come back. False: no such peer. A peer that was
  // neither up nor had an endpoint is found but left alone (was_connected false).
  struct Disconnected {
    bool found = false;
    bool was_connected = false;
    std::string name;  // the hub peer's name, or "server"/"client"
    explicit operator bool() const { return found; }
  };
  Disconnected disconnect(const std::string& peer);
  // Handshake counters: the identity's and every session's, summed.
  crypto::SessionStats crypto_stats() const;
  // Called once, when the engine can no longer work (the device is gone); `why` is one
  // line naming the device. The engine has stopped itself by then (the transport is
  // closed on the next turn of the event loop). The handler logs `why`.
  void set_failure_handler(std::function<void(const std::string& why)> handler) {
    on_failure_ = std::move(handler);
  }
  // False once failed: the daemon feeds the systemd watchdog only while true.
  bool healthy() const { return !failed_; }
  // The MTU the tunnel carries now (follows the device's).
  unsigned tunnel_mtu() const { return mtu_; }
  // Told whenever a peer comes or goes (the daemon reports it to systemd, runs hooks). In
  // hub mode also when a peer is removed by a reload while up (up = false).
  void set_peer_observer(std::function<void(const Peer& peer, bool up)> observer) {
    observer_ = std::move(observer);
  }
  // Hub reload: the new set of peers, applied as a diff by key (engine_hub_peers.cpp).
  // Removed peers are cut at once; changed ones updated in place (name, keepalive,
  // allowed-ips, psk for their next handshake); unchanged ones keep their sessions and
  // queues. The identity's allow-list becomes the new keys. Throws crypto::KeyError with
  // nothing changed if a key is unusable.
  HubChanges set_hub_peers(std::vector<HubPeerSpec> peers);
  // SIGHUP: the identity's keys changed; sessions of clients no longer allowed end now.
  void keys_changed(std::optional<crypto::Key> peer_public);

 private:
  // engine_outbound.cpp
  void pump_outbound();
  // `now`, `responder_now`: the peer's and the responder's clocks, read once per batch
  // (the frames of one wake-up).
  bool read_one_for(Peer& peer, util::Clock::time_point now,
                    link::Responder::Clock::time_point responder_now);
  void wait_for_writable();
  void drain_without_peer();
  // `now`: the responder's clock, read once per batch (it only paces ICMP errors).
  bool answered_locally(util::ConstByteSpan frame, link::Responder::Clock::time_point now);
  // The router: the peer a destination belongs to. With one peer every destination is
  // its (the hub routes by allowed-ips, and by learned MAC for TAP).
  Peer* peer_for(const link::Destination& destination) const;
  bool peer_up_for(const link::Destination& destination) const override;
  void wait_for_device();
  void on_read_error(std::error_code ec);
  void complain_too_big(std::size_t size);
  // engine_hub.cpp
  void pump_hub();
  void route_from_device(util::ConstByteSpan frame);
  void switch_frame(PortId ingress, util::ConstByteSpan frame);
  void send_to(Peer& peer, util::ConstByteSpan frame);
  void transmit(Peer& peer, util::ConstByteSpan frame);
  void drain_backlog();
  bool send_queued(Peer& peer);
  void wait_for_backlog();
  void deliver_from(Peer& peer, util::ConstByteSpan frame);
  bool source_allowed(const Peer& peer, util::ConstByteSpan packet) const;
  Peer* route(const link::Destination& destination) const;
  bool hub_peer_up_for(const link::Destination& destination) const;
  Peer* peer_by_id(PeerId id) const;
  Peer* peer_for_key(const crypto::Key& key) const;
  // engine_hub_peers.cpp
  Peer& add_hub_peer(const HubPeerSpec& spec);
  void remove_hub_peer(const crypto::Key& key);
  void update_hub_peer(Peer& peer, const HubPeerSpec& spec);
  void route_prefixes(const Peer& peer, const std::vector<util::IpPrefix>& prefixes);
  void on_hub_peer_state(Peer& peer, bool up);
  // engine_inbound.cpp
  void on_message(const transport::Endpoint& from, util::ByteSpan message) override;
  void on_endpoint_up(const transport::Endpoint& endpoint) override;
  void on_endpoint_down(const transport::Endpoint& endpoint, const std::string& reason) override;
  void on_receive_batch_end() override;
  void on_datagram(const transport::Endpoint& from, util::ByteSpan message);
  void on_encrypted(const transport::Endpoint& from, util::ByteSpan message);
  bool initiation_allowed(const transport::Endpoint& from);
  void on_initiation(const transport::Endpoint& from, util::ByteSpan message);
  void refused(const transport::Endpoint& from, const std::string& why);
  // Refused input: logged at a bounded rate, and the line is only built when it will be
  // logged (nothing is formatted per packet while a flood is being suppressed).
  template <class MakeText>
  void wire_complaint(MakeText make_text) {
    util::warn_limited(log_, wire_complaints_, make_text);
  }
  Peer* peer_for_index(std::uint32_t receiver_index);
  Peer* peer_at(const transport::Endpoint& endpoint);
  void deliver(util::ConstByteSpan frame);
  bool plausible(util::ConstByteSpan frame);
  void deliver_plausible(util::ConstByteSpan frame);
  bool write_to_device(util::ConstByteSpan frame);
  void device_write_failed(std::error_code ec);
  void note_above_mtu(util::ConstByteSpan frame);
  void on_peer_state(Peer& peer, bool up);
  // engine_batch.cpp
  // While alive (a device batch), encrypted frames are committed unsealed and sealed on
  // the workers before they leave; its end seals what is left.
  class DeferredSeals {
   public:
    explicit DeferredSeals(Engine& engine);
    ~DeferredSeals();
    DeferredSeals(const DeferredSeals&) = delete;
    DeferredSeals& operator=(const DeferredSeals&) = delete;

   private:
    Engine& engine_;
  };
  bool batching() const;
  std::vector<crypto::SealJob>* deferred_seals() { return defer_seals_ ? &seals_ : nullptr; }
  void run_seals();
  // transport_.commit, forgetting the deferred seal of a message it did not take.
  void commit(const transport::Endpoint& to, std::size_t size);
  void defer_open(Peer& peer, const transport::Endpoint& from, util::ByteSpan message,
                  std::uint32_t receiver_index);
  void run_opens();
  // Everything pending done: before any event that may change a session or an endpoint.
  void settle();
  // engine_device.cpp
  void on_mtu_changed(unsigned old_mtu, unsigned new_mtu) override;
  void on_renamed(const std::string& old_name, const std::string& new_name) override;
  void on_addresses_changed(const std::vector<device::Ipv4Prefix>& now) override;
  void on_gone(const std::string& why) override;
  void on_notice(const std::string& line) override;
  void log_capped_mtu(unsigned device_mtu);
  void fail(const std::string& why);
  void complain(const std::string& what);

  device::Device& device_;
  transport::Transport& transport_;
  util::Logger& log_;
  link::Responder* responder_;
  crypto::Identity* identity_;
  bool initiator_;  // the client side
  const util::Clock& clock_;
  // Before the peers: their sessions release their indices here when destroyed.
  IndexMap indices_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::function<void(const Peer&, bool)> observer_;
  // Hub mode.
  bool hub_ = false;
  bool ethernet_ = false;
  PeerConfig hub_template_;  // session settings every hub peer starts from
  util::Backoff hub_backoff_;
  std::vector<HubPeerSpec> hub_specs_;
  AllowedIps allowed_ips_;
  MacTable macs_;
  std::map<crypto::Key, Peer*> by_key_;
  std::unordered_map<PeerId, Peer*> by_id_;
  PeerId next_id_ = kDevicePort + 1;
  std::size_t peers_up_ = 0;
  std::vector<Peer*> backlogged_;  // peers with queued frames
  bool waiting_backlog_ = false;
  std::function<void(const std::string&)> on_failure_;
  EngineStats stats_;
  crypto::SessionStats unrouted_;  // encrypted messages no peer's session owns
  // Workers (engine_batch.cpp).
  util::WorkerPool* workers_;
  bool defer_seals_ = false;
  std::vector<crypto::SealJob> seals_;
  struct PendingOpen {
    Peer* peer;
    transport::Endpoint from;
    crypto::OpenJob job;
  };
  std::vector<PendingOpen> opens_, finishing_;
  unsigned mtu_;
  std::size_t max_frame_;
  std::vector<std::byte> scratch_;  // where packets go when no peer is up
  util::LogLimiter complaints_;     // the device's troubles
  util::LogLimiter own_wire_complaints_;
  util::LogLimiter& wire_complaints_;  // refused input from the network
  util::LogLimiter device_state_log_;  // "device is down / up" lines
  util::LogLimiter too_big_log_;
  util::LogLimiter above_mtu_log_{1, std::chrono::seconds(10)};
  std::size_t largest_logged_ = 0;  // the above-MTU size last reported
  unsigned pump_wait_ = 0;          // generation of the current wait for writable
  bool waiting_writable_ = false;
  bool stopped_ = false;
  bool closed_ = false;
  bool failed_ = false;
  bool device_down_ = false;
  bool read_error_pending_ = false;  // a pause after a read error is running
  // Last, so it ends first: the device's and the transport's pending handlers (waits,
  // pauses, resume) do nothing once the engine is gone.
  util::Lifetime lifetime_;
};

}  // namespace tund::tunnel
