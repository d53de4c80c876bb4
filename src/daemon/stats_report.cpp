#include "tund/daemon/stats_report.hpp"

#include <sstream>

namespace tund::daemon {

std::string format_stats(const tunnel::EngineStats& e, const transport::TransportStats& t,
                         const crypto::SessionStats* s) {
  std::ostringstream out;
  out << "stats: tx " << t.tx_frames << " frames " << t.tx_bytes << " bytes, rx " << t.rx_frames
      << " frames " << t.rx_bytes << " bytes; device reads " << e.device_reads << " writes "
      << e.device_writes << "; dropped: no-peer " << e.dropped_no_peer << " malformed "
      << e.dropped_malformed << " device-down " << e.dropped_device_down << " oversize "
      << t.rx_oversize << " zero-length " << t.rx_zero_length << " truncated " << t.rx_truncated
      << " bad-datagram " << t.rx_bad_datagram << " tx-failed " << t.tx_dropped
      << " device-write-errors " << e.device_write_errors << " device-read-errors "
      << e.device_read_errors << " too-big " << e.dropped_too_big << "; above-mtu "
      << e.received_above_mtu << " (largest " << e.largest_received << "); sessions " << t.sessions
      << " peer-changes " << t.peer_changes;
  if (s)
    out << "; crypto: handshakes " << s->handshakes_completed << " handshake-failed "
        << s->handshakes_failed << " handshake-refused " << s->handshakes_refused << " auth-failed "
        << s->auth_failed << " replayed " << s->replayed << " unknown-session "
        << s->unknown_session << " malformed " << s->malformed << " refused " << t.rx_refused
        << " rate-limited " << t.rx_rate_limited;
  return out.str();
}

std::string format_link_stats(const link::ResponderStats& l) {
  std::ostringstream out;
  out << "link: arp-replies " << l.arp_replies << " echo-replies " << l.echo_replies
      << " unreachable-sent " << l.unreachable_sent << " too-big-sent " << l.too_big_sent
      << " rate-limited " << l.errors_rate_limited << " ignored-malformed " << l.ignored_malformed
      << " dropped-too-big " << l.dropped_too_big << " errors-withheld " << l.errors_withheld;
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
