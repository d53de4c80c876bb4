#include "tund/transport/resolver.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <asio/bind_allocator.hpp>
#include <asio/error.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace tund::transport {

// What a lookup thread and its Resolver share. The Resolver clears `io` when it is
// destroyed or moves on, so a late result is dropped instead of posted to a dead loop.
// While a lookup is in flight it counts as work of the loop (`work`), so a loop with
// nothing else to do does not return before the answer is posted.
struct Resolver::Shared {
  std::mutex mutex;
  asio::io_context* io = nullptr;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
};

namespace {

// Asio keeps freed handler memory in a per-thread cache. A handler posted from the lookup
// thread (which has no cache) is allocated with aligned_alloc there and freed into the
// loop thread's cache, which later releases it with operator delete: a mismatch that
// ASan reports. A handler with an allocator of its own bypasses the cache.
template <typename T>
struct PlainAllocator {
  using value_type = T;
  PlainAllocator() = default;
  template <typename U>
  PlainAllocator(const PlainAllocator<U>&) {}
  T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, std::size_t n) { std::allocator<T>().deallocate(p, n); }
  template <typename U>
  bool operator==(const PlainAllocator<U>&) const {
    return true;
  }
};

std::error_code lookup_error(int eai) {
  switch (eai) {
    case EAI_NONAME:
      return asio::error::host_not_found;
    case EAI_AGAIN:
      return asio::error::host_not_found_try_again;
    case EAI_NODATA:
      return asio::error::no_data;
    case EAI_FAIL:
      return asio::error::no_recovery;
    case EAI_SERVICE:
      return asio::error::service_not_found;
    case EAI_MEMORY:
      return std::make_error_code(std::errc::not_enough_memory);
    case EAI_SYSTEM:
      return {errno, std::generic_category()};
    default:
      return asio::error::no_recovery;
  }
}

std::error_code lookup(const std::string& host, std::uint16_t port, std::vector<Endpoint>& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address; the same addresses serve UDP
  // No AI_ADDRCONFIG: while the underlay is down there is no configured address, and the
  // answer must still hold every address for when it comes back.
  addrinfo* list = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
  if (rc != 0) return lookup_error(rc);
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    asio::ip::address address;
    if (ai->ai_family == AF_INET) {
      auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      asio::ip::address_v4::bytes_type b;
      std::memcpy(b.data(), &sin->sin_addr, b.size());
      address = asio::ip::address_v4(b);
    } else if (ai->ai_family == AF_INET6) {
      auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), &sin6->sin6_addr, b.size());
      address = asio::ip::address_v6(b, sin6->sin6_scope_id);
    } else {
      continue;
    }
    bool seen = false;
    for (const auto& e : out) seen |= e.address == address;
    if (!seen) out.push_back({address, port});
  }
  ::freeaddrinfo(list);
  if (out.empty()) return asio::error::no_data;
  return {};
}

}  // namespace

Resolver::Resolver(asio::io_context& io) : io_(io) {}

Resolver::~Resolver() {
  cancel();
}

void Resolver::cancel() {
  if (shared_) {
    std::lock_guard lock(shared_->mutex);
    shared_->io = nullptr;
    shared_->work.reset();
  }
  shared_.reset();
  busy_ = false;
}

void Resolver::resolve(const std::string& host, std::uint16_t port, Handler handler) {
  cancel();
  shared_ = std::make_shared<Shared>();
  shared_->io = &io_;
  shared_->work.emplace(io_.get_executor());
  busy_ = true;
  auto shared = shared_;
  auto done = [this, shared, handler = std::move(handler)](std::error_code ec,
                                                           std::vector<Endpoint> found) {
    // Runs on the loop's thread. A cancelled lookup (or a destroyed Resolver) has `io`
    // cleared, and only then may `this` be gone.
    {
      std::lock_guard lock(shared->mutex);
      if (!shared->io) return;
    }
    busy_ = false;
    handler(ec, std::move(found));
  };
  // Detached: a hanging getaddrinfo cannot be interrupted, and must not hold up shutdown.
  try {
    std::thread([shared, host, port, done]() mutable {
      std::vector<Endpoint> found;
      std::error_code ec = lookup(host, port, found);
      std::lock_guard lock(shared->mutex);
      if (shared->io)
        asio::post(*shared->io, asio::bind_allocator(PlainAllocator<void>(),
                                                     [done = std::move(done), ec,
                                                      found = std::move(found)]() mutable {
                                                       done(ec, std::move(found));
                                                     }));
      shared->work.reset();
    }).detach();
  } catch (const std::system_error& e) {
    // No thread to be had (EAGAIN: a process or memory limit): a temporary failure like
    // any other, reported the usual way rather than thrown out of a handler.
    asio::post(io_, [done, ec = e.code()]() mutable { done(ec, {}); });
    shared_->work.reset();
  }
}

bool is_permanent_lookup_error(const std::error_code& ec) {
  return ec == asio::error::host_not_found || ec == asio::error::no_data ||
         ec == asio::error::service_not_found;
}

}  // namespace tund::transport
