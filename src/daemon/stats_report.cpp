#include "tund/daemon/stats_report.hpp"

#include <sstream>

namespace tund::daemon {

std::string format_stats(const tunnel::EngineStats& e, const tunnel::PeerStats& p,
                         const transport::TransportStats& t, bool datagram,
                         const crypto::SessionStats* s) {
  using tunnel::Drop;
  // A datagram too large for any buffer is both oversize and of the wrong shape.
  std::uint64_t bad_datagram = e.dropped[Drop::bad_datagram] + (datagram ? t.rx_oversize : 0);
  std::ostringstream out;
  out << "stats: tx " << p.tx_frames << " frames " << p.tx_bytes << " bytes, rx " << p.rx_frames
      << " frames " << p.rx_bytes << " bytes; device reads " << e.device_reads << " writes "
      << e.device_writes << "; dropped: no-peer " << e.dropped[Drop::no_peer] << " malformed "
      << e.dropped[Drop::malformed] << " device-down " << e.dropped[Drop::device_down]
      << " oversize " << t.rx_oversize + e.dropped[Drop::oversize] << " zero-length "
      << t.rx_zero_length << " truncated " << t.rx_truncated << " bad-datagram " << bad_datagram
      << " tx-failed " << t.tx_dropped << " device-write-errors " << e.device_write_errors
      << " device-read-errors " << e.device_read_errors << " too-big " << e.dropped[Drop::too_big]
      << "; above-mtu " << e.received_above_mtu << " (largest " << e.largest_received
      << "); sessions " << p.sessions << " peer-changes " << p.peer_changes;
  if (s)
    out << "; crypto: handshakes " << s->handshakes_completed << " handshake-failed "
        << s->handshakes_failed << " handshake-refused " << s->handshakes_refused << " auth-failed "
        << s->auth_failed << " replayed " << s->replayed << " unknown-session "
        << s->unknown_session << " malformed " << s->malformed << " refused "
        << e.dropped[Drop::refused] + t.rx_refused_connections << " rate-limited "
        << e.dropped[Drop::rate_limited];
  return out.str();
}

tunnel::PeerStats total_peer_stats(const tunnel::Engine& engine) {
  tunnel::PeerStats sum;
  for (const auto& peer : engine.peers()) sum += peer->stats();
  return sum;
}

std::string format_peer_stats(const tunnel::Peer& peer) {
  const auto& p = peer.stats();
  std::ostringstream out;
  out << "peer " << peer.configured_name() << ": endpoint "
      << (peer.endpoint() ? transport::to_string(*peer.endpoint()) : std::string("none")) << ", "
      << (peer.up() ? "up" : "down") << ", rx " << p.rx_frames << " frames " << p.rx_bytes
      << " bytes, tx " << p.tx_frames << " frames " << p.tx_bytes << " bytes, sessions "
      << p.sessions << ", peer-changes " << p.peer_changes << "; dropped: spoofed " << p.spoofed
      << " queue-full " << p.queue_dropped << " (queued " << peer.queue_size() << ")";
  return out.str();
}

std::string format_link_stats(const link::ResponderStats& l) {
  std::ostringstream out;
  out << "link: arp-replies " << l.arp_replies << " echo-replies " << l.echo_replies
      << " unreachable-sent " << l.unreachable_sent << " too-big-sent " << l.too_big_sent
      << " rate-limited " << l.errors_rate_limited << " ignored-malformed " << l.ignored_malformed
      << " dropped-too-big " << l.dropped_too_big << " errors-withheld " << l.errors_withheld
      << " neighbor-advertisements " << l.neighbor_advertisements;
  return out.str();
}

std::string format_offload_stats(const device::OffloadStats& o, const std::string& last_bad) {
  std::ostringstream out;
  out << "offload: super-packets-read " << o.super_packets_read << " segments-made "
      << o.segments_made << " super-packets-written " << o.super_packets_written
      << " segments-merged " << o.segments_merged << " bad-super-packets " << o.bad_super_packets;
  if (!last_bad.empty()) out << " (last: " << last_bad << ")";
  return out.str();
}

}  // namespace tund::daemon
