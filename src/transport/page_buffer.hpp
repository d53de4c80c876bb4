// A buffer of whole pages mapped on demand and unmapped on release, for the per-connection
// output buffers of the TCP pipe: pages count in the resident set only once written, and
// a released buffer goes back to the kernel at once (a heap block of this size might not:
// glibc raises its mmap threshold after the first free and keeps later ones in the
// heap). Private to transport/.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <utility>

namespace tund::transport {

class PageBuffer {
 public:
  PageBuffer() = default;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;
  ~PageBuffer() { release(); }

  // Maps `size` bytes unless already mapped; false if the kernel refused (ENOMEM).
  bool acquire(std::size_t size) {
    if (data_) return true;
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
    data_ = static_cast<std::byte*>(p);
    size_ = size;
    return true;
  }
  void release() {
    if (data_) (void)::munmap(data_, size_);
    data_ = nullptr;
    size_ = 0;
  }
  std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }
  explicit operator bool() const { return data_ != nullptr; }

 private:
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace tund::transport
