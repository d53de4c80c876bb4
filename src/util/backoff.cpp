#include "tund/util/backoff.hpp"

#include <algorithm>
#include <memory>
#include <random>

namespace tund::util {

Backoff::Backoff(Duration initial, Duration cap, Random random)
    : initial_(initial), cap_(cap), random_(std::move(random)) {}

Backoff::Duration Backoff::next() {
  // Stop doubling once past the cap (and long before the shift could overflow).
  unsigned shift = std::min(attempts_, 20u);
  Duration raw = std::min(cap_, Duration(initial_.count() << shift));
  ++attempts_;
  double factor = 0.5 + 0.5 * random_();
  return Duration(static_cast<Duration::rep>(static_cast<double>(raw.count()) * factor));
}

Backoff::Random system_random() {
  auto engine = std::make_shared<std::minstd_rand>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace tund::util
