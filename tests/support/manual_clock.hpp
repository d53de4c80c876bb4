// A clock that moves only when the test says so (util/clock.hpp).
#pragma once

#include "tund/util/clock.hpp"

namespace tund::testing {

class ManualClock final : public util::Clock {
 public:
  // Starts well away from the epoch: code that treats time_point{} as "never" stays right.
  ManualClock() : now_(time_point{} + std::chrono::hours(1)) {}
  time_point now() const override { return now_; }
  void advance(duration d) { now_ += d; }

 private:
  time_point now_;
};

}  // namespace tund::testing
