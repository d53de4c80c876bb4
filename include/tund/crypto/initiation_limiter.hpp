// How many handshake initiations a responder processes (each costs public-key work: see
// proto/timers.hpp for the measured cost), in the manner of wireguard-go's "under load"
// rule (device/receive.go, device.IsUnderLoad, ratelimiter/): a per-source limit only
// while the server is busy, so many clients behind one NAT address are not locked out
// when it is not.
//
//  * Global budget, always: a token bucket of proto::kInitiationsPerSecond, burst
//    proto::kInitiationBurst, shared by every source. It bounds the CPU spent on
//    initiations (about half a core at the measured cost), whoever sends them.
//  * Under load: the global bucket held fewer than kInitiationBurst * kUnderLoadFraction
//    tokens at some initiation within the last proto::kUnderLoadHold (the hold keeps a
//    flood that is being throttled from leaving the state at once, as wireguard-go's
//    UnderLoadAfterTime does).
//  * While under load, each source (address) is also limited to proto::kHandshakesPerSecond
//    with burst proto::kHandshakeBurst: one flooding address cannot take the whole budget,
//    and every other address still gets its share of it.
// Pure: the caller passes the time (monotonic); no clock is read here.
#pragma once

#include <string>

#include "tund/crypto/message.hpp"
#include "tund/util/rate_limiter.hpp"

namespace tund::crypto {

struct InitiationLimits {
  double per_second;           // global refill rate
  double burst;                // global bucket size (it starts full)
  double under_load_fraction;  // under load below burst * this
  std::chrono::nanoseconds hold;
  double per_source_per_second, per_source_burst;
};

// The proto/timers.hpp values.
InitiationLimits default_initiation_limits();

class InitiationLimiter {
 public:
  explicit InitiationLimiter(const InitiationLimits& limits = default_initiation_limits());

  // True if an initiation from `source` (an address as text) may be processed now; takes
  // its tokens. A refusal is for the caller to count.
  bool allow(const std::string& source, Time now);
  // Under load at `now` (as last judged by allow()).
  bool under_load(Time now) const { return now < under_load_until_; }

 private:
  void refill(Time now);

  InitiationLimits limits_;
  double tokens_;
  Time last_{};
  bool started_ = false;
  Time under_load_until_{};
  util::RateLimiter per_source_;
};

}  // namespace tund::crypto
