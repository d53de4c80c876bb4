// Descriptor hygiene for every socket the transports open or accept.
#pragma once

#include <fcntl.h>

namespace tund::transport {

// Asio opens and accepts sockets without SOCK_CLOEXEC. Without FD_CLOEXEC a hook's
// children (a daemon started from --up) would inherit the socket and keep tund's port
// busy after tund exits. Call right after open/accept, before anything can fork.
// Failure (only EBADF) leaves nothing to protect.
inline void set_close_on_exec(int fd) {
  int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) (void)::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

}  // namespace tund::transport
