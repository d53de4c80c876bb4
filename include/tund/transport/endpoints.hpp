// Name resolution and endpoint formatting shared by the TCP and UDP transports.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tund/transport/transport.hpp"

namespace tund::transport {

// Thrown for start-up failures (unresolvable host, port in use); what() is one line.
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The server a client talks to (its addresses are Endpoints with connection 0): its name as given
// (resolved again whenever the client reconnects or finds the server unanswering, so a server that
// moved is followed) and the addresses of the latest successful lookup (empty when none has
// succeeded yet).
struct RemoteServer {
  std::string host;
  std::uint16_t port = 0;
  std::vector<Endpoint> addresses;
};

// Resolves HOST (a name, IPv4 or IPv6 literal); throws TransportError when it cannot.
std::vector<Endpoint> resolve(asio::io_context& io, const std::string& host, std::uint16_t port);

// The listen address: the named one, or [::] (dual-stack) when empty.
asio::ip::address listen_address(const std::string& listen);

}  // namespace tund::transport
