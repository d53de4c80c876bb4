// Name lookups that never block the event loop. getaddrinfo(3) can hang for many seconds
// (an unreachable DNS server: timeout x attempts x servers, resolv.conf(5)); meanwhile the
// loop must keep answering signals, timers and traffic. So each lookup runs on a thread of
// its own and its result is posted back to the io_context's thread.
#pragma once

#include <asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "tund/transport/endpoints.hpp"

namespace tund::transport {

class Resolver {
 public:
  // Runs on the io_context's thread. On success `ec` is clear and `addresses` holds every
  // address of the name, in getaddrinfo's (RFC 6724) order, without duplicates.
  using Handler = std::function<void(std::error_code ec, std::vector<Endpoint> addresses)>;

  explicit Resolver(asio::io_context& io);
  // Abandons a lookup in flight: its handler never runs (the thread finishes on its own).
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Looks up HOST (a name, or an IPv4/IPv6 literal) for PORT. A new call abandons the
  // previous lookup. Errors are asio's netdb/addrinfo error codes (host_not_found,
  // host_not_found_try_again, ...) or the errno of EAI_SYSTEM.
  void resolve(const std::string& host, std::uint16_t port, Handler handler);
  void cancel();
  bool busy() const { return busy_; }

 private:
  struct Shared;
  asio::io_context& io_;
  std::shared_ptr<Shared> shared_;
  bool busy_ = false;
};

// True when a lookup failed for good (the name does not exist, or has no address):
// retrying soon will not help. False for temporary failures (no DNS server reachable yet).
bool is_permanent_lookup_error(const std::error_code& ec);

}  // namespace tund::transport
