#include "tund/crypto/replay_window.hpp"

namespace tund::crypto {
namespace {

constexpr std::uint64_t block_of(std::uint64_t counter) {
  return counter >> 6;
}
constexpr std::uint64_t bit_of(std::uint64_t counter) {
  return std::uint64_t{1} << (counter & 63);
}

}  // namespace

bool ReplayWindow::may_accept(std::uint64_t counter) const {
  if (!any_ || counter > highest_) return true;
  if (strict_) return false;
  if (highest_ - counter >= kWindow) return false;
  return (ring_[block_of(counter) % kBlocks] & bit_of(counter)) == 0;
}

bool ReplayWindow::accept(std::uint64_t counter) {
  if (!may_accept(counter)) return false;
  if (!any_ || counter > highest_) {
    // Clear the blocks the window slides over (at most the whole ring).
    std::uint64_t from = any_ ? block_of(highest_) + 1 : block_of(counter);
    std::uint64_t to = block_of(counter);
    if (!any_ || to - from + 1 >= kBlocks) {
      ring_.fill(0);
    } else {
      for (std::uint64_t b = from; b <= to; ++b) ring_[b % kBlocks] = 0;
    }
    highest_ = counter;
    any_ = true;
  }
  ring_[block_of(counter) % kBlocks] |= bit_of(counter);
  return true;
}

}  // namespace tund::crypto
