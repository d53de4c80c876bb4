// A swarm client's own ping: ICMP echo requests (RFC 792) from the client's tunnel
// address, and the matching of the echo replies that come back (same identifier, a
// sequence number still outstanding), with their round-trip times. IPv4 only.
// Pure: packets in and out, the time is passed in.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

#include "tund/link/responder.hpp"
#include "tund/util/bytes.hpp"

namespace tund::swarm {

struct PingStats {
  std::uint64_t sent = 0;
  std::uint64_t replies = 0;  // matched echo replies
  std::uint64_t rtt_total_us = 0;
  std::uint64_t rtt_max_us = 0;
};

class Pinger {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kPayload = 56;      // as ping(8)'s default
  static constexpr std::size_t kOutstanding = 64;  // replies later than this many pings are lost

  Pinger(link::Ipv4 source, std::uint16_t id) : source_(source), id_(id) {}

  // The next echo request to `to` (a whole IPv4 packet, checksums set).
  std::vector<std::byte> request(const link::Ipv4& to, Clock::time_point now);
  // True when `packet` is an echo reply to one of our outstanding requests (then it is
  // counted with its round-trip time); false for anything else (left to the caller).
  bool on_packet(util::ConstByteSpan packet, Clock::time_point now);
  const PingStats& stats() const { return stats_; }

 private:
  link::Ipv4 source_;
  std::uint16_t id_;
  std::uint16_t next_seq_ = 0;
  std::array<Clock::time_point, kOutstanding> sent_at_{};
  std::array<bool, kOutstanding> pending_{};
  std::array<std::uint16_t, kOutstanding> seq_at_{};
  PingStats stats_;
};

}  // namespace tund::swarm
