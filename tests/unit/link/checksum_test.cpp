#include "tund/link/checksum.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace tund::link {
namespace {

// RFC 1071, two bytes at a time: the reference the 8-bytes-per-step loop must match.
std::uint32_t textbook_add(std::uint32_t sum, const std::byte* d, std::size_t n) {
  std::size_t i = 0;
  for (; i + 1 < n; i += 2)
    sum += std::to_integer<std::uint32_t>(d[i]) << 8 | std::to_integer<std::uint32_t>(d[i + 1]);
  if (i < n) sum += std::to_integer<std::uint32_t>(d[i]) << 8;
  return sum;
}

TEST(Checksum, MatchesTheTextbookLoopForEveryLengthAndAlignment) {
  std::mt19937 rng(7);
  std::vector<std::byte> data(2100);
  for (auto& b : data) b = static_cast<std::byte>(rng());
  for (std::size_t offset = 0; offset < 8; ++offset)
    for (std::size_t n = 0; n < 2000; n += (n < 40 ? 1 : 97)) {
      std::uint32_t seed = static_cast<std::uint32_t>(rng() & 0xffff);
      EXPECT_EQ(checksum_finish(checksum_add(seed, {data.data() + offset, n})),
                checksum_finish(textbook_add(seed, data.data() + offset, n)))
          << "offset " << offset << " length " << n;
    }
}

TEST(Checksum, KnownRfc1071Example) {
  const std::uint8_t values[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum(util::as_bytes(values, sizeof values)),
            static_cast<std::uint16_t>(~0xddf2 & 0xffff));
}

TEST(Checksum, AllOnesDataDoesNotOverflow) {
  std::vector<std::byte> ff(65535, std::byte{0xff});
  EXPECT_EQ(checksum_finish(checksum_add(0, ff)),
            checksum_finish(textbook_add(0, ff.data(), ff.size())));
}

// The end-around carry, shared by the finished checksum and the partial one offload stores.
TEST(Checksum, FoldCarriesUntilSixteenBitsAndFinishComplements) {
  EXPECT_EQ(checksum_fold(0x1fffe), 0xffff);
  EXPECT_EQ(checksum_fold(0x2'0001'0003), 0x0006);
  EXPECT_EQ(checksum_fold(0xffffffffffffffffu), 0xffff);
  EXPECT_EQ(checksum_finish(0x1fffe), 0x0000);
  EXPECT_EQ(checksum_finish(0x1234), 0xedcb);
}

}  // namespace
}  // namespace tund::link
