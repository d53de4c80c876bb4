#include "tund/transport/server_lookup.hpp"

#include <utility>

#include "tund/proto/timers.hpp"

namespace tund::transport {

ServerLookup::ServerLookup(asio::io_context& io, RemoteServer server, util::Logger& log)
    : server_(std::move(server)), log_(log), resolver_(io), patience_(io) {
  std::error_code ec;
  auto literal = asio::ip::make_address(server_.host, ec);
  literal_ = !ec;
  if (literal_) server_.addresses = {{literal, server_.port}};
  name_ = server_name(server_.host, server_.port);
}

void ServerLookup::refresh(std::function<void()> done) {
  if (literal_) {
    resolver_.cancel();
    done();
    return;
  }
  done_ = std::move(done);
  // One lookup at a time: a hanging one is waited for, not abandoned for another thread.
  if (!resolver_.busy())
    resolver_.resolve(server_.host, server_.port,
                      life_.guard([this](std::error_code ec, std::vector<Endpoint> found) {
                        on_resolved(ec, std::move(found));
                      }));
  patience_.expires_after(proto::kLookupPatience);
  patience_.async_wait(life_.guard([this](std::error_code ec) {
    if (ec || server_.addresses.empty()) return;
    if (auto pending = std::exchange(done_, nullptr)) pending();
  }));
}

void ServerLookup::cancel() {
  resolver_.cancel();
  patience_.cancel();
  done_ = nullptr;
}

void ServerLookup::on_resolved(const std::error_code& ec, std::vector<Endpoint> found) {
  if (ec) {
    // Once per kind of failure, not per attempt: a DNS outage must not fill the log.
    if (ec.message() != last_failure_) {
      last_failure_ = ec.message();
      log_.warn("cannot resolve ", server_.host, " (", last_failure_, ")",
                server_.addresses.empty()
                    ? "; retrying"
                    : "; keeping its last known address " + describe(server_.addresses));
    }
  } else {
    if (!last_failure_.empty()) log_.info("resolving ", server_.host, " works again");
    last_failure_.clear();
    if (found != server_.addresses)
      log_.info("server ", server_.host,
                server_.addresses.empty() ? " resolves to " : " now resolves to ", describe(found));
    server_.addresses = std::move(found);
  }
  patience_.cancel();
  if (auto done = std::exchange(done_, nullptr)) done();
}

std::string server_name(const std::string& host, std::uint16_t port) {
  std::error_code ec;
  auto literal = asio::ip::make_address(host, ec);
  return ec ? host + ":" + std::to_string(port) : to_string(literal, port);
}

std::string describe(const std::vector<Endpoint>& addresses) {
  std::string out;
  for (const auto& e : addresses) {
    if (!out.empty()) out += ", ";
    auto a = e.address;
    if (a.is_v6() && a.to_v6().is_v4_mapped())
      a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    out += a.to_string();
  }
  return out;
}

}  // namespace tund::transport
