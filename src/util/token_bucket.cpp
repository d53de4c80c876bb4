#include "tund/util/token_bucket.hpp"

#include <algorithm>

namespace tund::util {

bool TokenBucket::allow(Clock::time_point now) {
  double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  last_ = now;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace tund::util
