// A client's current idea of where its server is. The name given with -c is looked up
// again on request (each TCP reconnect attempt; a UDP server that stops answering), so a
// server that moved to a new address is followed. A failed lookup keeps the last known
// addresses; a changed answer is logged once.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <functional>
#include <string>
#include <vector>

#include "tund/transport/endpoints.hpp"
#include "tund/transport/resolver.hpp"
#include "tund/util/lifetime.hpp"
#include "tund/util/log.hpp"

namespace tund::transport {

class ServerLookup {
 public:
  // `server.addresses` may be empty (the start-up lookup failed): refresh() fills it.
  ServerLookup(asio::io_context& io, RemoteServer server, util::Logger& log);

  // Looks the name up again and then calls `done` on the loop's thread, with addresses()
  // as current as it can be (unchanged after a failure). A literal address needs no lookup:
  // `done` runs at once. A lookup slower than 3 s (DNS unreachable) does not hold `done`
  // back when addresses are known; its answer is kept for the next call, which waits for
  // a lookup still in flight rather than start another.
  void refresh(std::function<void()> done);
  void cancel();
  bool busy() const { return resolver_.busy(); }

  const std::vector<Endpoint>& addresses() const { return server_.addresses; }
  // For logs: "vpn.example:55555", or "198.18.0.1:55555" / "[2001:db8::1]:55555".
  const std::string& name() const { return name_; }

 private:
  void on_resolved(const std::error_code& ec, std::vector<Endpoint> found);

  RemoteServer server_;
  util::Logger& log_;
  Resolver resolver_;
  asio::steady_timer patience_;
  std::string name_;
  bool literal_ = false;
  std::string last_failure_;  // logged once until a lookup succeeds again
  std::function<void()> done_;
  util::Lifetime life_;
};

// "198.18.0.1, 2001:db8::1" (addresses only: the port is the same for all).
std::string describe(const std::vector<Endpoint>& addresses);
// How the server is named in log lines before an address is known: "198.18.0.1:55555" for
// an address literal, "vpn.example:55555" for a name.
std::string server_name(const std::string& host, std::uint16_t port);

}  // namespace tund::transport
