// Where session keys live (crypto/primitives.hpp AeadKey puts them here). Each key used to have its
// own sodium_malloc region (a guard page on each side, a header page, mlock), several pages per
// 32-byte key, so a hub with a thousand idle peers paid a thousand sets of guard pages (and ran
// into RLIMIT_MEMLOCK, past which libsodium silently stops locking). The arena packs keys into
// shared chunks instead, keeping what mattered:
//  * each chunk is one sodium_malloc region: guard pages around it, mlocked (never swapped,
//    best effort as before), excluded from core dumps (MADV_DONTDUMP), read-only except
//    while a slot is written or wiped;
//  * a slot is wiped (sodium_memzero) when released, before it can be handed out again;
//  * free slots are kept per chunk; a chunk that empties is returned to the system unless
//    it is the only empty one (so a rekey at a chunk boundary does not map and unmap).
// Thread-safe (a mutex; taken only when keys are made and dropped, not per packet).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace tund::crypto {

class KeyArena {
 public:
  // Slots of `slot_size` bytes (a multiple of 16, so every slot is 16-byte aligned as
  // libsodium's AES state needs); chunks of `chunk_pages` pages.
  explicit KeyArena(std::size_t slot_size, std::size_t chunk_pages = 4);
  ~KeyArena();
  KeyArena(const KeyArena&) = delete;
  KeyArena& operator=(const KeyArena&) = delete;

  // A slot holding a copy of slot_size bytes at `secret`, read-only from then on. Throws
  // std::bad_alloc if no chunk can be mapped.
  const void* store(const void* secret);
  // Wipes the slot and frees it. `slot` must come from store() on this arena.
  void release(const void* slot);

  struct Usage {
    std::size_t chunks = 0, slots_used = 0, slots_per_chunk = 0, chunk_bytes = 0;
  };
  Usage usage() const;

 private:
  struct Chunk {
    std::byte* base = nullptr;        // the sodium_malloc'd region
    std::vector<std::uint32_t> free;  // free slot numbers
  };
  Chunk& chunk_with_room();
  std::size_t chunk_of(const std::byte* slot) const;
  void drop_if_spare(std::size_t chunk);

  std::size_t slot_size_, chunk_bytes_, slots_per_chunk_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Chunk>> chunks_;
};

// The process's arenas (never destroyed, so keys released during static destruction are
// safe): one for 32-byte ChaCha20-Poly1305 keys, one for libsodium's expanded AES-256-GCM
// state.
KeyArena& chacha_key_arena();
KeyArena& aes_key_arena();

}  // namespace tund::crypto
