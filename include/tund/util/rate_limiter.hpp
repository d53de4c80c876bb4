// A token bucket per source (an address as text), so a flood of handshake initiations from
// one place cannot pin the CPU with X25519 work. Pure: the caller passes the time. The
// table is bounded: when full, the stalest entries are forgotten.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>

#include "tund/util/token_bucket.hpp"

namespace tund::util {

class RateLimiter {
 public:
  using Clock = TokenBucket::Clock;

  // `per_second` tokens refill each second, up to `burst`; at most `max_sources` tracked.
  RateLimiter(double per_second, double burst, std::size_t max_sources = 4096)
      : rate_(per_second), burst_(burst), max_sources_(max_sources) {}

  bool allow(const std::string& source, Clock::time_point now);

 private:
  void prune(Clock::time_point now);

  double rate_, burst_;
  std::size_t max_sources_;
  std::unordered_map<std::string, TokenBucket> buckets_;
};

}  // namespace tund::util
