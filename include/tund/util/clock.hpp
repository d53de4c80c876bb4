// The monotonic clock, injectable: the engine's timers (keepalive, stale-peer detection,
// rekey, handshake retries) and the transports' (route retry, address patience) read the
// time through it, so tests step time by hand instead of sleeping (as boringtun's
// mock-instant). Production code uses steady_clock(); tests/support/manual_clock.hpp has
// the hand-driven one.
#pragma once

#include <chrono>

namespace tund::util {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
};

// std::chrono::steady_clock behind the interface; one shared instance.
const Clock& steady_clock();

}  // namespace tund::util
