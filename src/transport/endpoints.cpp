#include "tund/transport/endpoints.hpp"

#include <asio/ip/tcp.hpp>

namespace tund::transport {

std::vector<Endpoint> resolve(asio::io_context& io, const std::string& host, std::uint16_t port) {
  asio::ip::tcp::resolver resolver(io);
  std::error_code ec;
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty())
    throw TransportError("cannot resolve host '" + host +
                         "': " + (ec ? ec.message() : std::string("no addresses")));
  std::vector<Endpoint> out;
  for (const auto& entry : results)
    out.push_back({entry.endpoint().address(), entry.endpoint().port()});
  return out;
}

asio::ip::address listen_address(const std::string& listen) {
  if (listen.empty()) return asio::ip::address_v6::any();
  std::error_code ec;
  auto address = asio::ip::make_address(listen, ec);
  if (ec) throw TransportError("--listen: '" + listen + "' is not an IPv4 or IPv6 address");
  return address;
}

}  // namespace tund::transport
