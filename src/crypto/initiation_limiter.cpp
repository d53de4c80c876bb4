#include "tund/crypto/initiation_limiter.hpp"

#include <algorithm>

#include "tund/proto/timers.hpp"

namespace tund::crypto {

InitiationLimits default_initiation_limits() {
  return {proto::kInitiationsPerSecond, proto::kInitiationBurst,     proto::kUnderLoadFraction,
          proto::kUnderLoadHold,        proto::kHandshakesPerSecond, proto::kHandshakeBurst};
}

InitiationLimiter::InitiationLimiter(const InitiationLimits& limits)
    : limits_(limits),
      tokens_(limits.burst),
      per_source_(limits.per_source_per_second, limits.per_source_burst) {}

void InitiationLimiter::refill(Time now) {
  if (started_ && now > last_) {
    double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(limits_.burst, tokens_ + elapsed * limits_.per_second);
  }
  if (!started_ || now > last_) last_ = now;
  started_ = true;
}

bool InitiationLimiter::allow(const std::string& source, Time now) {
  refill(now);
  if (tokens_ < limits_.burst * limits_.under_load_fraction)
    under_load_until_ = now + std::chrono::duration_cast<Clock::duration>(limits_.hold);
  // Per source first: a source over its share does not take from the global budget.
  if (under_load(now) && !per_source_.allow(source, now)) return false;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

}  // namespace tund::crypto
