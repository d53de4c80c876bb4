// Opens and binds a listening socket the way both transports want it: [::] accepts IPv4
// too (IPV6_V6ONLY off), falling back to 0.0.0.0 where IPv6 is disabled.
#pragma once

#include <asio/error.hpp>
#include <asio/ip/address.hpp>
#include <cstdint>
#include <string>
#include <system_error>

#include "tund/transport/endpoints.hpp"

namespace tund::transport {

// Calls `open_and_bind(address)` with the listen address; if that is [::] and IPv6 is not
// available (EAFNOSUPPORT), once more with 0.0.0.0. Rethrows other failures as
// TransportError naming `what` ("TCP" or "UDP") and the port.
template <typename OpenAndBind>
void bind_listener(const asio::ip::address& address, std::uint16_t port, const char* what,
                   OpenAndBind&& open_and_bind) {
  try {
    try {
      open_and_bind(address);
    } catch (const std::system_error& e) {
      bool any_v6 = address.is_v6() && address.to_v6().is_unspecified();
      if (!any_v6 || e.code() != asio::error::address_family_not_supported) throw;
      open_and_bind(asio::ip::address(asio::ip::address_v4::any()));
    }
  } catch (const std::system_error& e) {
    std::string hint = e.code() == asio::error::address_in_use ? " (is another tund running?)" : "";
    throw TransportError(std::string("cannot listen on ") + what + " " + to_string(address, port) +
                         ": " + e.code().message() + hint);
  }
}

}  // namespace tund::transport
