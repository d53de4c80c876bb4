// What `tund show`, the metrics endpoint and systemd's STATUS= report (control/status.hpp),
// copied from the engine's counters on the event-loop thread: the packet path is never
// locked or slowed for it (one copy per request, O(peers)).
#include <unistd.h>

#include <algorithm>
#include <asio/post.hpp>
#include <cstdio>
#include <future>
#include <map>
#include <memory>

#include "daemon_impl.hpp"
#include "tund/config/cli.hpp"
#include "tund/crypto/keys.hpp"
#include "tund/transport/server_lookup.hpp"
#include "tund/tunnel/drop.hpp"

namespace tund::daemon {

using SteadyTime = util::Clock::time_point;

// Steady time points become Unix seconds by their distance from now (0 stays 0: never).
struct StatusTime {
  SteadyTime steady = util::steady_clock().now();
  std::chrono::system_clock::time_point wall = std::chrono::system_clock::now();
  std::int64_t unix_of(SteadyTime t) const {
    if (t == SteadyTime{}) return 0;
    auto at = wall - std::chrono::duration_cast<std::chrono::system_clock::duration>(steady - t);
    return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
  }
};

namespace {

std::string mac_text(const std::array<std::byte, 6>& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x",
                std::to_integer<unsigned>(mac[0]), std::to_integer<unsigned>(mac[1]),
                std::to_integer<unsigned>(mac[2]), std::to_integer<unsigned>(mac[3]),
                std::to_integer<unsigned>(mac[4]), std::to_integer<unsigned>(mac[5]));
  return text;
}

// A drop reason's stats-line spelling ("queue-full") as a counter name ("queue_full").
std::string counter_name(tunnel::Drop reason) {
  std::string text = tunnel::name(reason);
  std::replace(text.begin(), text.end(), '-', '_');
  return text;
}

const char* role_name(const config::Config& cfg) {
  if (cfg.hub()) return "hub";
  return cfg.role == config::Role::server ? "server" : "client";
}

void add_session(control::PeerStatus& out, const tunnel::Peer& peer, const StatusTime& time) {
  const crypto::Session* session = peer.session();
  if (!session) {
    out.cipher = "none";
    return;
  }
  // "" (no session) rather than "none" (plaintext): a down encrypted peer is not plaintext.
  out.cipher = session->keyed() ? session->cipher_name() : "";
  out.handshakes = session->stats().handshakes_completed;
  if (auto at = session->last_handshake()) out.latest_handshake = time.unix_of(*at);
  if (out.public_key.empty())
    if (auto key = session->peer_key()) out.public_key = crypto::to_base64(*key);
}

control::PeerStatus peer_status(const tunnel::Peer& peer, const StatusTime& time) {
  control::PeerStatus out;
  const auto& stats = peer.stats();
  out.name = peer.configured_name();
  if (peer.public_key()) out.public_key = crypto::to_base64(*peer.public_key());
  out.up = peer.up();
  // A down peer shows where it was last, as `wg show` does (the state says it is down).
  if (peer.last_endpoint()) out.endpoint = transport::to_string(*peer.last_endpoint());
  out.up_since = time.unix_of(peer.up_since());
  out.last_received = time.unix_of(peer.last_received());
  out.rx_bytes = stats.rx_bytes;
  out.rx_packets = stats.rx_frames;
  out.tx_bytes = stats.tx_bytes;
  out.tx_packets = stats.tx_frames;
  out.sessions = stats.sessions;
  out.endpoint_changes = stats.peer_changes;
  out.queued = peer.queue_size();
  out.dropped = {{"spoofed", stats.spoofed}, {"queue_full", stats.queue_dropped}};
  add_session(out, peer, time);
  return out;
}

// A peer file with `disabled = true`: listed, never up.
control::PeerStatus disabled_peer(const config::PeerSpec& file) {
  control::PeerStatus out;
  out.name = file.name;
  out.public_key = file.public_key;
  out.disabled = true;
  out.cipher = "none";
  for (const auto& prefix : file.allowed_ips) out.allowed_ips.push_back(util::to_string(prefix));
  out.dropped = {{"spoofed", 0}, {"queue_full", 0}};
  return out;
}

control::Counters device_counters(const tunnel::EngineStats& e) {
  return {{"reads", e.device_reads},
          {"writes", e.device_writes},
          {"read_errors", e.device_read_errors},
          {"write_errors", e.device_write_errors},
          {"above_mtu", e.received_above_mtu}};
}

control::Counters offload_counters(const device::OffloadStats& o) {
  return {{"super_packets_read", o.super_packets_read},
          {"segments_made", o.segments_made},
          {"super_packets_written", o.super_packets_written},
          {"segments_merged", o.segments_merged},
          {"bad_super_packets", o.bad_super_packets}};
}

control::Counters link_counters(const link::ResponderStats& l) {
  return {{"arp_replies", l.arp_replies},
          {"echo_replies", l.echo_replies},
          {"unreachable_sent", l.unreachable_sent},
          {"too_big_sent", l.too_big_sent},
          {"rate_limited", l.errors_rate_limited},
          {"ignored_malformed", l.ignored_malformed},
          {"dropped_too_big", l.dropped_too_big},
          {"errors_withheld", l.errors_withheld},
          {"neighbor_advertisements", l.neighbor_advertisements}};
}

// As the SIGUSR1 line counts them (stats_report.cpp): the transport's oversize messages
// with the engine's, and (datagram) also as bad datagrams; refused connections as refused.
control::Counters dropped_counters(const tunnel::EngineStats& e, const transport::TransportStats& t,
                                   bool datagram) {
  control::Counters out;
  for (std::size_t i = 0; i < tunnel::kDropReasons; ++i) {
    auto reason = static_cast<tunnel::Drop>(i);
    out[counter_name(reason)] = e.dropped[reason];
  }
  out["oversize"] += t.rx_oversize;
  if (datagram) out["bad_datagram"] += t.rx_oversize;
  out["refused"] += t.rx_refused_connections;
  out["zero_length"] = t.rx_zero_length;
  out["truncated"] = t.rx_truncated;
  out["tx_failed"] = t.tx_dropped;
  return out;
}

control::Counters transport_counters(const transport::TransportStats& t) {
  return {{"rx_messages", t.rx_messages},     {"rx_bytes", t.rx_bytes},
          {"tx_messages", t.tx_messages},     {"tx_bytes", t.tx_bytes},
          {"connections", t.connections},     {"refused_connections", t.rx_refused_connections},
          {"accept_paused", t.accept_paused}, {"accept_errors", t.accept_errors}};
}

}  // namespace

control::InterfaceStatus Daemon::status() const {
  control::InterfaceStatus out;
  const StatusTime time;
  out.interface = dev_ ? dev_->name() : cfg_.iface;
  out.mode = cfg_.device == config::DeviceKind::tap ? "tap" : "tun";
  out.role = role_name(cfg_);
  out.transport = cfg_.transport == config::TransportKind::udp ? "udp" : "tcp";
  if (cfg_.role == config::Role::server) out.listen_port = cfg_.port;
  if (cfg_.role == config::Role::client)
    out.remote = transport::server_name(cfg_.remote_host, cfg_.port);
  if (keys_) out.public_key = crypto::to_base64(keys_->public_key);
  out.version = config::kVersion;
  out.pid = static_cast<std::int64_t>(::getpid());
  out.started = started_;
  out.now = time.unix_of(time.steady);
  out.peers_configured = 1;
  if (workers_) {  // the pool's own relaxed counters: nothing is added to the packet path
    out.threads = workers_->threads();
    out.thread_frames = workers_->items_per_thread();
  }
  if (!engine_) return out;  // start-up: no tunnel yet
  out.mtu = engine_->tunnel_mtu();
  add_interface_counters(out);
  if (engine_->hub())
    add_hub_peers(out, time);
  else
    out.peers.push_back(one_peer(time));
  return out;
}

const config::Config& Daemon::running_config() const {
  return hub_cfg_ ? *hub_cfg_ : cfg_;
}

void Daemon::add_interface_counters(control::InterfaceStatus& out) const {
  const auto& e = engine_->stats();
  const auto& t = net_->stats();
  auto c = engine_->crypto_stats();
  out.counters["device"] = device_counters(e);
  out.counters["offload"] = offload_counters(dev_->offload_stats());
  out.counters["link"] = link_counters(responder_->stats());
  out.counters["dropped"] = dropped_counters(e, t, net_->datagram());
  out.counters["handshake"] = {{"completed", c.handshakes_completed},
                               {"failed", c.handshakes_failed},
                               {"refused", c.handshakes_refused}};
  out.counters["crypto"] = {{"auth_failed", c.auth_failed},
                            {"replayed", c.replayed},
                            {"unknown_session", c.unknown_session},
                            {"malformed", c.malformed},
                            {"rate_limited", e.dropped[tunnel::Drop::rate_limited]}};
  out.counters["transport"] = transport_counters(t);
  if (control_) {  // the socket's own refusals (docs/CONTROL.md section 3)
    const ControlStats& s = control_->stats();
    out.counters["control"] = {{"requests", s.requests},
                               {"denied", s.denied},
                               {"bad_requests", s.bad_requests},
                               {"timed_out", s.timed_out},
                               {"refused_busy", s.refused_busy}};
  }
  if (engine_->hub() && cfg_.device == config::DeviceKind::tap)
    out.counters["switch"] = {{"macs_learned", engine_->macs_learned()},
                              {"mac_moves", e.mac_moves},
                              {"mac_refused", e.mac_refused}};
  // Hub: the enabled peer files, each a peer of the engine.
  if (engine_->hub()) out.peers_configured = engine_->peers().size();
}

// The one peer: "server" on a client, "client" on a server.
control::PeerStatus Daemon::one_peer(const StatusTime& time) const {
  const tunnel::Peer& peer = engine_->peer();
  control::PeerStatus out = peer_status(peer, time);
  bool client = cfg_.role == config::Role::client;
  out.name = client ? "server" : "client";
  if (client && keys_ && keys_->peer_public)
    out.public_key = crypto::to_base64(*keys_->peer_public);
  return out;
}

// Every peer file by name: the engine's peers (allowed-ips from their specs, learned MACs
// for TAP), and the disabled ones from the configuration.
void Daemon::add_hub_peers(control::InterfaceStatus& out, const StatusTime& time) const {
  std::map<crypto::Key, const tunnel::HubPeerSpec*> specs;
  for (const auto& spec : engine_->hub_specs()) specs.emplace(spec.public_key, &spec);
  bool tap = cfg_.device == config::DeviceKind::tap;
  for (const auto& peer : engine_->peers()) {
    control::PeerStatus status = peer_status(*peer, time);
    auto spec = peer->public_key() ? specs.find(*peer->public_key()) : specs.end();
    if (spec != specs.end())
      for (const auto& prefix : spec->second->allowed_ips)
        status.allowed_ips.push_back(util::to_string(prefix));
    if (tap)
      for (const auto& mac : engine_->macs_of(*peer)) status.macs.push_back(mac_text(mac));
    std::sort(status.macs.begin(), status.macs.end());
    out.peers.push_back(std::move(status));
  }
  for (const auto& file : running_config().peers)
    if (file.disabled) out.peers.push_back(disabled_peer(file));
  std::sort(out.peers.begin(), out.peers.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
}

// Another thread (the metrics server) asks: the status is taken on the event loop, and
// this thread waits for it at most `timeout`.
std::optional<control::InterfaceStatus> Daemon::status_from_any_thread(
    std::chrono::milliseconds timeout) {
  if (!serving_.load()) return std::nullopt;
  auto promise = std::make_shared<std::promise<control::InterfaceStatus>>();
  auto future = promise->get_future();
  asio::post(io_, [this, promise] {
    try {
      promise->set_value(status());
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  });
  if (future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
  try {
    return future.get();
  } catch (const std::exception&) {
    return std::nullopt;  // the status could not be taken (logged by no one: rare, harmless)
  }
}

}  // namespace tund::daemon
