// The asynchronous Resolver: literals and /etc/hosts names answer through the event loop,
// an abandoned lookup never calls back, and lookup errors are told apart (permanent or
// temporary). No test needs a DNS server.
#include "tund/transport/resolver.hpp"

#include <gtest/gtest.h>

#include <asio/error.hpp>
#include <optional>

#include "support/transport_harness.hpp"
#include "tund/transport/server_lookup.hpp"

namespace tund::testing {
namespace {

using namespace std::chrono_literals;

struct Lookup {
  std::optional<std::error_code> ec;
  std::vector<transport::Endpoint> addresses;
};

Lookup resolve(asio::io_context& io, transport::Resolver& resolver, const std::string& host) {
  Lookup out;
  resolver.resolve(host, 55555, [&](std::error_code ec, std::vector<transport::Endpoint> found) {
    out.ec = ec;
    out.addresses = std::move(found);
  });
  EXPECT_TRUE(resolver.busy());
  run_until(io, [&] { return out.ec.has_value(); });
  return out;
}

TEST(Resolver, Ipv4LiteralIsItsOwnAnswer) {
  asio::io_context io;
  transport::Resolver resolver(io);
  auto r = resolve(io, resolver, "198.18.0.1");
  ASSERT_TRUE(r.ec.has_value());
  EXPECT_FALSE(*r.ec);
  ASSERT_EQ(r.addresses.size(), 1u);
  EXPECT_EQ(r.addresses[0].address, asio::ip::make_address("198.18.0.1"));
  EXPECT_EQ(r.addresses[0].port, 55555);
  EXPECT_FALSE(resolver.busy());
}

TEST(Resolver, Ipv6LiteralIsItsOwnAnswer) {
  asio::io_context io;
  transport::Resolver resolver(io);
  auto r = resolve(io, resolver, "2001:db8::7");
  ASSERT_TRUE(r.ec.has_value());
  EXPECT_FALSE(*r.ec);
  ASSERT_EQ(r.addresses.size(), 1u);
  EXPECT_EQ(r.addresses[0].address, asio::ip::make_address("2001:db8::7"));
}

// localhost is in /etc/hosts everywhere; it may come with ::1 too, but each address once.
TEST(Resolver, NameFromHostsFileHasLoopbackWithoutDuplicates) {
  asio::io_context io;
  transport::Resolver resolver(io);
  auto r = resolve(io, resolver, "localhost");
  ASSERT_TRUE(r.ec.has_value());
  ASSERT_FALSE(*r.ec) << r.ec->message();
  bool loopback = false;
  for (std::size_t i = 0; i < r.addresses.size(); ++i) {
    loopback |= r.addresses[i].address.is_loopback();
    for (std::size_t k = i + 1; k < r.addresses.size(); ++k)
      EXPECT_NE(r.addresses[i].address, r.addresses[k].address);
  }
  EXPECT_TRUE(loopback);
}

TEST(Resolver, AnAbandonedLookupNeverCallsBack) {
  asio::io_context io;
  bool called = false;
  {
    transport::Resolver resolver(io);
    resolver.resolve("localhost", 1, [&](std::error_code, auto) { called = true; });
    resolver.cancel();
    EXPECT_FALSE(resolver.busy());
    run_until(
        io, [] { return false; }, 200ms);
    resolver.resolve("localhost", 1, [&](std::error_code, auto) { called = true; });
  }  // destroyed with the lookup in flight
  run_until(
      io, [] { return false; }, 200ms);
  EXPECT_FALSE(called);
}

TEST(Resolver, ANewLookupReplacesThePrevious) {
  asio::io_context io;
  transport::Resolver resolver(io);
  int first = 0;
  resolver.resolve("198.18.0.1", 1, [&](std::error_code, auto) { ++first; });
  auto r = resolve(io, resolver, "198.18.0.2");
  run_until(
      io, [] { return false; }, 100ms);
  EXPECT_EQ(first, 0);
  ASSERT_EQ(r.addresses.size(), 1u);
  EXPECT_EQ(r.addresses[0].address, asio::ip::make_address("198.18.0.2"));
}

TEST(Resolver, PermanentAndTemporaryFailuresAreToldApart) {
  EXPECT_TRUE(transport::is_permanent_lookup_error(asio::error::host_not_found));
  EXPECT_TRUE(transport::is_permanent_lookup_error(asio::error::no_data));
  EXPECT_FALSE(transport::is_permanent_lookup_error(asio::error::host_not_found_try_again));
  EXPECT_FALSE(transport::is_permanent_lookup_error(std::make_error_code(std::errc::timed_out)));
}

// ServerLookup keeps the last known addresses when a lookup fails and takes a literal as
// its own answer, with no lookup at all.
TEST(ServerLookup, LiteralNeedsNoLookup) {
  asio::io_context io;
  util::Logger log(util::LogLevel::error);
  transport::ServerLookup lookup(io, {"198.18.0.9", 7, {}}, log);
  bool done = false;
  lookup.refresh([&] { done = true; });
  EXPECT_TRUE(done);
  ASSERT_EQ(lookup.addresses().size(), 1u);
  EXPECT_EQ(lookup.name(), "198.18.0.9:7");
}

TEST(ServerLookup, LogsANewAnswerOnce) {
  asio::io_context io;
  std::vector<std::string> lines;
  util::Logger log(util::LogLevel::info,
                   [&](util::LogLevel, std::string_view text) { lines.emplace_back(text); });
  // Started with a stale answer (as if the start-up lookup saw the server elsewhere).
  transport::ServerLookup lookup(io, {"localhost", 7, {{asio::ip::make_address("198.18.0.9"), 7}}},
                                 log);
  for (int i = 0; i < 2; ++i) {
    bool done = false;
    lookup.refresh([&] { done = true; });
    ASSERT_TRUE(run_until(io, [&] { return done; }));
  }
  ASSERT_FALSE(lookup.addresses().empty());
  EXPECT_TRUE(lookup.addresses()[0].address.is_loopback());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("localhost now resolves to"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace tund::testing
