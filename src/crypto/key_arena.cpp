#include "tund/crypto/key_arena.hpp"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <new>

namespace tund::crypto {
namespace {

// sodium_malloc puts a 16-byte canary in front of the data inside the unprotected pages,
// so a region of whole pages minus 16 bytes fills them exactly (and starts 16 bytes into
// a page: aligned for every slot).
constexpr std::size_t kCanary = 16;

std::size_t page_size() {
  long size = sysconf(_SC_PAGESIZE);
  return size > 0 ? static_cast<std::size_t>(size) : 4096;
}

// Makes a chunk's pages writable for the life of one change (under the arena's mutex).
class Writable {
 public:
  explicit Writable(std::byte* base) : base_(base) { sodium_mprotect_readwrite(base_); }
  ~Writable() { sodium_mprotect_readonly(base_); }
  Writable(const Writable&) = delete;
  Writable& operator=(const Writable&) = delete;

 private:
  std::byte* base_;
};

}  // namespace

KeyArena::KeyArena(std::size_t slot_size, std::size_t chunk_pages)
    : slot_size_(slot_size),
      chunk_bytes_(chunk_pages * page_size() - kCanary),
      slots_per_chunk_(chunk_bytes_ / slot_size) {}

KeyArena::~KeyArena() {
  for (auto& chunk : chunks_) sodium_free(chunk->base);  // wipes
}

const void* KeyArena::store(const void* secret) {
  std::lock_guard lock(mutex_);
  Chunk& chunk = chunk_with_room();
  std::uint32_t slot = chunk.free.back();
  std::byte* at = chunk.base + std::size_t{slot} * slot_size_;
  {
    Writable open(chunk.base);
    std::copy_n(static_cast<const std::byte*>(secret), slot_size_, at);
  }
  chunk.free.pop_back();
  return at;
}

void KeyArena::release(const void* slot) {
  std::lock_guard lock(mutex_);
  auto* at = static_cast<std::byte*>(const_cast<void*>(slot));
  std::size_t index = chunk_of(at);
  if (index == chunks_.size()) return;  // not ours: never write there
  Chunk& chunk = *chunks_[index];
  {
    Writable open(chunk.base);
    sodium_memzero(at, slot_size_);
  }
  chunk.free.push_back(static_cast<std::uint32_t>(std::size_t(at - chunk.base) / slot_size_));
  drop_if_spare(index);
}

KeyArena::Chunk& KeyArena::chunk_with_room() {
  for (auto& chunk : chunks_)
    if (!chunk->free.empty()) return *chunk;
  auto chunk = std::make_unique<Chunk>();
  chunk->base = static_cast<std::byte*>(sodium_malloc(chunk_bytes_));  // mlocked, guarded
  if (!chunk->base) throw std::bad_alloc();
  sodium_memzero(chunk->base, chunk_bytes_);
  sodium_mprotect_readonly(chunk->base);
  // Hand out low slots first (popped from the back).
  for (std::size_t i = slots_per_chunk_; i-- > 0;)
    chunk->free.push_back(static_cast<std::uint32_t>(i));
  chunks_.push_back(std::move(chunk));
  return *chunks_.back();
}

std::size_t KeyArena::chunk_of(const std::byte* slot) const {
  for (std::size_t i = 0; i < chunks_.size(); ++i)
    if (slot >= chunks_[i]->base && slot < chunks_[i]->base + chunk_bytes_) return i;
  return chunks_.size();  // not from this arena
}

// An empty chunk goes back to the system when another empty one remains.
void KeyArena::drop_if_spare(std::size_t index) {
  auto empty = [&](const auto& c) { return c->free.size() == slots_per_chunk_; };
  if (!empty(chunks_[index]) || std::count_if(chunks_.begin(), chunks_.end(), empty) < 2) return;
  sodium_free(chunks_[index]->base);
  chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(index));
}

KeyArena::Usage KeyArena::usage() const {
  std::lock_guard lock(mutex_);
  Usage u;
  u.chunks = chunks_.size();
  u.slots_per_chunk = slots_per_chunk_;
  u.chunk_bytes = chunk_bytes_;
  for (const auto& chunk : chunks_) u.slots_used += slots_per_chunk_ - chunk->free.size();
  return u;
}

KeyArena& chacha_key_arena() {
  static auto* arena = new KeyArena(32);
  return *arena;
}

KeyArena& aes_key_arena() {
  static auto* arena = new KeyArena((sizeof(crypto_aead_aes256gcm_state) + 15) / 16 * 16);
  return *arena;
}

}  // namespace tund::crypto
