// Anti-replay for received counters. Datagram mode: a sliding window in the style of
// RFC 6479 (a ring of 64-bit blocks), accepting reordered counters up to kWindow behind the
// highest seen, each at most once. Stream mode (TCP): counters must strictly increase.
#pragma once

#include <array>
#include <cstdint>

namespace tund::crypto {

class ReplayWindow {
 public:
  static constexpr std::uint64_t kBlocks = 64;                  // ring size, a power of two
  static constexpr std::uint64_t kWindow = (kBlocks - 1) * 64;  // 4032 counters

  explicit ReplayWindow(bool strictly_increasing = false) : strict_(strictly_increasing) {}

  // Cheap pre-check before decrypting: false if the counter is certainly a replay/too old.
  bool may_accept(std::uint64_t counter) const;
  // After the message authenticated: records the counter; false if it was a replay.
  bool accept(std::uint64_t counter);

 private:
  bool strict_;
  bool any_ = false;
  std::uint64_t highest_ = 0;
  std::array<std::uint64_t, kBlocks> ring_{};
};

}  // namespace tund::crypto
