// One token bucket: `per_second` tokens refill each second, up to `burst`; each allowed
// event takes one. Pure: the caller passes the time. It starts full. Used alone for the
// responder's ICMP error rate (link/responder) and once per source by util::RateLimiter.
#pragma once

#include <chrono>

namespace tund::util {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(double per_second, double burst) : rate_(per_second), burst_(burst), tokens_(burst) {}

  // Refills for the time since the last call, then takes a token if there is a whole one.
  bool allow(Clock::time_point now);
  // The time of the last allow() call (time_point{} before the first).
  Clock::time_point last() const { return last_; }

 private:
  double rate_, burst_, tokens_;
  Clock::time_point last_{};
};

}  // namespace tund::util
