#include "tund/util/rate_limiter.hpp"

#include <algorithm>

namespace tund::util {

bool RateLimiter::allow(const std::string& source, Clock::time_point now) {
  auto it = buckets_.find(source);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_sources_) prune(now);
    it = buckets_.emplace(source, TokenBucket(rate_, burst_)).first;  // full, as new
  }
  return it->second.allow(now);
}

// Forgets sources whose bucket has refilled (they are indistinguishable from new ones);
// if none has, forgets everything, which errs on the side of letting handshakes through.
void RateLimiter::prune(Clock::time_point now) {
  auto refill = std::chrono::duration<double>(burst_ / rate_);
  std::erase_if(buckets_, [&](const auto& entry) { return now - entry.second.last() > refill; });
  if (buckets_.size() >= max_sources_) buckets_.clear();
}

}  // namespace tund::util
