// The key arena: slots packed into shared chunks, wiped and reused, chunks returned when
// spare; and AeadKeys living there.
#include "tund/crypto/key_arena.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <set>
#include <vector>

#include "tund/crypto/primitives.hpp"

namespace tund::crypto {
namespace {

using Secret = std::array<std::byte, 32>;

Secret secret_of(unsigned seed) {
  Secret s;
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::byte>(seed * 31 + i + 1);
  return s;
}

TEST(KeyArena, SlotsHoldTheirSecretAndArePackedIntoFewChunks) {
  init_sodium();
  KeyArena arena(32);
  std::size_t per_chunk = arena.usage().slots_per_chunk;
  ASSERT_GE(per_chunk, 100u) << "a chunk holds many keys";
  std::vector<const void*> slots;
  for (unsigned i = 0; i < 2 * per_chunk + 1; ++i) {
    Secret s = secret_of(i);
    slots.push_back(arena.store(s.data()));
  }
  EXPECT_EQ(arena.usage().chunks, 3u);
  EXPECT_EQ(arena.usage().slots_used, 2 * per_chunk + 1);
  EXPECT_EQ(std::set<const void*>(slots.begin(), slots.end()).size(), slots.size());
  for (unsigned i = 0; i < slots.size(); ++i) {
    Secret s = secret_of(i);
    EXPECT_EQ(std::memcmp(slots[i], s.data(), s.size()), 0) << i;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(slots[i]) % 16, 0u);
  }
  for (const void* slot : slots) arena.release(slot);
  EXPECT_EQ(arena.usage().slots_used, 0u);
  EXPECT_EQ(arena.usage().chunks, 1u) << "empty chunks go back, but one stays";
}

TEST(KeyArena, AReleasedSlotIsWipedAndReused) {
  init_sodium();
  KeyArena arena(32);
  Secret s = secret_of(7);
  const void* first = arena.store(s.data());
  const void* second = arena.store(s.data());
  arena.release(first);
  // The chunk stays mapped (second lives in it): the released slot reads as zeros.
  Secret zero{};
  EXPECT_EQ(std::memcmp(first, zero.data(), zero.size()), 0);
  EXPECT_EQ(arena.store(s.data()), first) << "the free slot is reused";
  arena.release(first);
  arena.release(second);
}

TEST(KeyArena, APointerFromElsewhereIsIgnored) {
  init_sodium();
  KeyArena arena(32);
  Secret s = secret_of(1);
  const void* slot = arena.store(s.data());
  Secret outside = secret_of(2);
  arena.release(outside.data());
  EXPECT_EQ(outside, secret_of(2)) << "not wiped: not the arena's";
  EXPECT_EQ(arena.usage().slots_used, 1u);
  arena.release(slot);
}

TEST(KeyArena, AeadKeysShareTheProcessArena) {
  init_sodium();
  std::size_t before = chacha_key_arena().usage().slots_used;
  {
    std::vector<std::unique_ptr<AeadKey>> keys;
    for (int i = 0; i < 1000; ++i)
      keys.push_back(std::make_unique<AeadKey>(Aead::chacha20poly1305, random_private_key()));
    auto u = chacha_key_arena().usage();
    EXPECT_EQ(u.slots_used, before + 1000);
    EXPECT_LE(u.chunks, 1000 / u.slots_per_chunk + 2) << "packed, not one region per key";
  }
  EXPECT_EQ(chacha_key_arena().usage().slots_used, before);
}

}  // namespace
}  // namespace tund::crypto
