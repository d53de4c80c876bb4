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

std::string to_string(const asio::ip::address& address, std::uint16_t port) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return to_string(asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()), port);
  // Appended into one string rather than chained operator+: GCC 12 at -O3 inlines
  // `"[" + std::string` into a memcpy it cannot prove disjoint and reports a false
  // -Wrestrict (GCC bug 105329), which -Werror turns into a failed Release build.
  std::string text;
  text.reserve(48);
  if (address.is_v6())
    text.append("[").append(address.to_string()).append("]");
  else
    text.append(address.to_string());
  text.append(":").append(std::to_string(port));
  return text;
}

std::string to_string(const Endpoint& endpoint) {
  return to_string(endpoint.address, endpoint.port);
}

}  // namespace tund::transport
