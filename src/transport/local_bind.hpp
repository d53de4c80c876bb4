// Binding a client's socket to a chosen local address before it connects or sends
// (TcpOptions/UdpOptions::bind_address): a test swarm gives each simulated client its own
// 127.x source address, and a multi-homed host can pick the address its tunnel leaves from.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <asio/ip/address.hpp>
#include <optional>
#include <system_error>

namespace tund::transport {

// Binds the open `socket` to `address` with an ephemeral port (0); nothing without an
// address. An address of the other family than `family_of` (the destination) cannot be
// used for it: address_family_not_supported, like a bind that fails (EADDRNOTAVAIL: the
// address is not on this host) leaves `ec` set and the caller treats it as a failed
// connect.
template <typename Socket, typename Endpoint>
void bind_local(Socket& socket, const std::optional<asio::ip::address>& address,
                const Endpoint& family_of, std::error_code& ec) {
  ec.clear();
  if (!address) return;
  if (address->is_v6() != family_of.address().is_v6()) {
    ec = std::make_error_code(std::errc::address_family_not_supported);
    return;
  }
#ifdef IP_BIND_ADDRESS_NO_PORT
  // TCP: the port is chosen at connect() time, per destination (Linux >= 4.2), so a
  // thousand clients bound to one address do not exhaust its ephemeral ports at bind().
  // UDP has no connect-time choice, so only TCP; failure only loses that refinement.
  Endpoint local(*address, 0);
  int one = 1;
  if (local.protocol().type() == SOCK_STREAM)
    (void)::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                       sizeof one);
#else
  Endpoint local(*address, 0);
#endif
  socket.bind(local, ec);
}

}  // namespace tund::transport
