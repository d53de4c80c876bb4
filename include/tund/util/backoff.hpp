// Capped, jittered exponential backoff for reconnect attempts. Pure (the random source is
// injected), so its schedule is unit-tested without sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace tund::util {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;
  // Returns a value uniformly in [0, 1).
  using Random = std::function<double()>;

  Backoff(Duration initial, Duration cap, Random random);

  // The delay before the next attempt: initial * 2^attempts, capped, then scaled by a
  // random factor in [0.5, 1) so that many clients cut off at once do not return in step.
  Duration next();
  void reset() { attempts_ = 0; }
  unsigned attempts() const { return attempts_; }

 private:
  Duration initial_, cap_;
  Random random_;
  unsigned attempts_ = 0;
};

Backoff::Random system_random();

}  // namespace tund::util
