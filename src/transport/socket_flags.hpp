// Descriptor hygiene for every socket the transports open or accept, and reading the
// errno out of the error codes their calls return.
#pragma once

#include <fcntl.h>

#include <string_view>
#include <system_error>

namespace tund::transport {

// Asio opens and accepts sockets without SOCK_CLOEXEC. Without FD_CLOEXEC a hook's
// children (a daemon started from --up) would inherit the socket and keep tund's port
// busy after tund exits. Call right after open/accept, before anything can fork.
// Failure (only EBADF) leaves nothing to protect.
inline void set_close_on_exec(int fd) {
  int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) (void)::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

// The errno inside `ec`, whether it came from a syscall here (generic category) or from
// Asio (its own "asio.system" category, which std::errc comparisons do not match); 0 for
// anything else (netdb, addrinfo, ...).
inline int errno_of(const std::error_code& ec) {
  const auto& category = ec.category();
  bool errno_value = category == std::generic_category() || category == std::system_category() ||
                     std::string_view(category.name()) == "asio.system";
  return errno_value ? ec.value() : 0;
}

}  // namespace tund::transport
