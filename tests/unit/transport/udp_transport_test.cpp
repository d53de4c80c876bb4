// The UDP pipe over loopback: messages both ways with their source endpoints, datagrams
// delivered as they are (parsing is the engine's), batches grouped by destination, and the
// client's choice of server address (endpoint up/down, the next address when one does not
// answer), driven by a manual clock.
#include "tund/transport/udp_transport.hpp"

#include <gtest/gtest.h>

#include <asio/ip/udp.hpp>

#include "support/manual_clock.hpp"
#include "support/transport_harness.hpp"
#include "tund/proto/timers.hpp"

namespace tund::testing {
namespace {

using asio::ip::udp;
using namespace std::chrono_literals;

struct UdpFixture : ::testing::Test {
  asio::io_context io;
  std::vector<std::string> lines;
  util::Logger log{util::LogLevel::info,
                   [this](util::LogLevel, std::string_view text) { lines.emplace_back(text); }};
  ManualClock clock;
  RecordingReceiver server_rx, client_rx;
  std::unique_ptr<transport::UdpTransport> server, client;

  void start_server(const char* listen = "127.0.0.1") {
    transport::UdpOptions o;
    o.server = true;
    o.listen = asio::ip::make_address(listen);
    server = std::make_unique<transport::UdpTransport>(io, o, log, clock);
    server->start(server_rx);
  }
  void start_client(transport::RemoteServer remote,
                    std::optional<asio::ip::address> bind_address = std::nullopt) {
    transport::UdpOptions o;
    o.remote = std::move(remote);
    o.bind_address = bind_address;
    client = std::make_unique<transport::UdpTransport>(io, o, log, clock);
    client->start(client_rx);
  }
  transport::RemoteServer loopback_server() const {
    return {"127.0.0.1",
            server->local_port(),
            {{asio::ip::make_address("127.0.0.1"), server->local_port()}}};
  }
  transport::Endpoint server_endpoint() const {
    return {asio::ip::make_address("127.0.0.1"), server->local_port(), 0};
  }
  udp::endpoint server_udp() const {
    return {asio::ip::make_address("127.0.0.1"), server->local_port()};
  }
  bool logged(const std::string& needle) const {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(needle) != std::string::npos; });
  }
  static transport::Endpoint endpoint_of(const udp::socket& s) {
    return {asio::ip::make_address("127.0.0.1"), s.local_endpoint().port(), 0};
  }
  static bool nothing_to_read(udp::socket& s) {
    s.non_blocking(true);
    std::error_code ec;
    char reply[64];
    s.receive(asio::buffer(reply), 0, ec);
    return ec == asio::error::would_block;
  }
  static std::vector<std::byte> read_one(asio::io_context& io, udp::socket& s) {
    s.non_blocking(true);
    std::vector<std::byte> got(65536);
    std::size_t n = 0;
    bool ok = run_until(io, [&] {
      std::error_code ec;
      n = s.receive(asio::buffer(got), 0, ec);
      return !ec;
    });
    got.resize(ok ? n : 0);
    return got;
  }
};

TEST_F(UdpFixture, MessagesCrossBothWaysWithTheirEndpoints) {
  start_server();
  start_client(loopback_server());
  EXPECT_TRUE(client_rx.ups.empty()) << "endpoints are reported from the loop, not start()";
  ASSERT_TRUE(run_until(io, [&] { return client_rx.ups.size() == 1; }));
  EXPECT_EQ(client_rx.ups[0], server_endpoint());
  EXPECT_TRUE(client->datagram());
  EXPECT_TRUE(client->writable(server_endpoint()));
  send_message(*client, server_endpoint(), frame_of(84, 1));
  ASSERT_TRUE(run_until(io, [&] { return server_rx.messages.size() == 1; }));
  EXPECT_EQ(server_rx.messages[0].bytes, frame_of(84, 1));
  const transport::Endpoint client_end = server_rx.messages[0].from;
  EXPECT_EQ(client_end.port, client->local_port());
  EXPECT_EQ(client_end.connection, 0u);
  EXPECT_TRUE(client_end.local.is_unspecified()) << "a named listen address is the source";
  send_message(*server, client_end, frame_of(1400, 2));
  ASSERT_TRUE(run_until(io, [&] { return client_rx.messages.size() == 1; }));
  EXPECT_EQ(client_rx.messages[0].bytes, frame_of(1400, 2));
  EXPECT_EQ(client_rx.messages[0].from, server_endpoint());
  EXPECT_GE(server_rx.batch_ends, 1u);
  EXPECT_TRUE(server_rx.ups.empty()) << "a UDP server has no endpoint events";
  EXPECT_EQ(server->stats().rx_messages, 1u);
  EXPECT_EQ(server->stats().rx_bytes, 84u);
  EXPECT_EQ(server->stats().tx_messages, 1u);
  EXPECT_EQ(server->stats().tx_bytes, 1400u);
  EXPECT_EQ(server->stats().tx_dropped, 0u);
}

// The pipe does not parse: whatever arrives is delivered as it is (the engine drops what
// is of the wrong shape, and counts it), and nothing is ever answered by the pipe itself.
TEST_F(UdpFixture, DatagramsAreDeliveredAsTheyAreAndNeverAnswered) {
  start_server();
  udp::socket stranger(io, udp::endpoint(udp::v4(), 0));
  std::vector<std::vector<unsigned char>> junk = {
      {}, {1}, {1, 0, 0}, {1, 0, 0, 0}, {9, 0, 0, 0, 1}, {1, 1, 0, 0, 0x45}, {2, 0, 0, 0, 7}};
  for (const auto& j : junk) stranger.send_to(asio::buffer(j), server_udp());
  ASSERT_TRUE(run_until(io, [&] { return server_rx.messages.size() == junk.size(); }));
  for (std::size_t i = 0; i < junk.size(); ++i) {
    EXPECT_EQ(server_rx.messages[i].bytes.size(), junk[i].size());
    EXPECT_EQ(server_rx.messages[i].from, endpoint_of(stranger));
  }
  EXPECT_EQ(server->stats().rx_oversize, 0u);
  EXPECT_TRUE(nothing_to_read(stranger)) << "the pipe never answers by itself";
}

// A peer with a larger MTU (simpletun's 1500 against our 1400) sends frames above our own
// MTU: the pipe delivers them (the wire format's limit is what counts).
TEST_F(UdpFixture, MessagesAboveOurMtuAreDelivered) {
  start_server();
  start_client(loopback_server());
  ASSERT_TRUE(run_until(io, [&] { return client_rx.ups.size() == 1; }));
  send_message(*client, server_endpoint(), frame_of(1500, 4));
  ASSERT_TRUE(run_until(io, [&] { return server_rx.messages.size() == 1; }));
  send_message(*server, server_rx.messages[0].from, frame_of(9000, 5));
  ASSERT_TRUE(run_until(io, [&] { return client_rx.messages.size() == 1; }));
  EXPECT_EQ(server_rx.messages[0].bytes, frame_of(1500, 4));
  EXPECT_EQ(client_rx.messages[0].bytes, frame_of(9000, 5));
  EXPECT_EQ(server->stats().rx_oversize + client->stats().rx_oversize, 0u);
}

// The server sends to any endpoint: each source is its own (the NAT in front of a client
// rebinding looks the same: a new source).
TEST_F(UdpFixture, ServerDeliversEachSourceAndSendsToAny) {
  start_server();
  udp::socket a(io, udp::endpoint(udp::v4(), 0)), b(io, udp::endpoint(udp::v4(), 0));
  std::vector<unsigned char> hello = {1, 0, 0, 0, 0x45};
  a.send_to(asio::buffer(hello), server_udp());
  ASSERT_TRUE(run_until(io, [&] { return server_rx.messages.size() == 1; }));
  b.send_to(asio::buffer(hello), server_udp());
  ASSERT_TRUE(run_until(io, [&] { return server_rx.messages.size() == 2; }));
  EXPECT_EQ(server_rx.messages[0].from, endpoint_of(a));
  EXPECT_EQ(server_rx.messages[1].from, endpoint_of(b));
  send_message(*server, endpoint_of(b), frame_of(30, 3));
  send_message(*server, endpoint_of(a), frame_of(20, 4));
  EXPECT_EQ(read_one(io, b), frame_of(30, 3));
  EXPECT_EQ(read_one(io, a), frame_of(20, 4));
  EXPECT_EQ(server->stats().tx_messages, 2u);
  EXPECT_EQ(server->stats().tx_dropped, 0u);
}

// A hub's batch interleaves destinations: nothing leaves before flush(), then each
// destination gets its own messages, in order.
TEST_F(UdpFixture, InterleavedDestinationsStayInOneBatchUntilFlush) {
  start_server();
  udp::socket a(io, udp::endpoint(udp::v4(), 0)), b(io, udp::endpoint(udp::v4(), 0));
  commit_message(*server, endpoint_of(a), frame_of(10, 1));
  commit_message(*server, endpoint_of(b), frame_of(12, 3));
  commit_message(*server, endpoint_of(a), frame_of(11, 2));
  commit_message(*server, endpoint_of(b), frame_of(13, 4));
  run_ready(io);
  EXPECT_TRUE(nothing_to_read(a)) << "another destination does not send the batch";
  EXPECT_TRUE(nothing_to_read(b));
  server->flush();
  EXPECT_EQ(read_one(io, a), frame_of(10, 1));
  EXPECT_EQ(read_one(io, a), frame_of(11, 2));
  EXPECT_EQ(read_one(io, b), frame_of(12, 3));
  EXPECT_EQ(read_one(io, b), frame_of(13, 4));
  EXPECT_EQ(server->stats().tx_messages, 4u);
  EXPECT_EQ(server->stats().tx_dropped, 0u);
}

// A control message goes at once, behind what was committed.
TEST_F(UdpFixture, ControlMessagesGoAtOnceBehindCommittedOnes) {
  start_server();
  udp::socket a(io, udp::endpoint(udp::v4(), 0));
  commit_message(*server, endpoint_of(a), frame_of(10, 1));
  std::vector<std::byte> keepalive = {std::byte{2}, std::byte{0}, std::byte{0}, std::byte{0}};
  EXPECT_TRUE(server->send_control(endpoint_of(a), keepalive));
  EXPECT_EQ(read_one(io, a), frame_of(10, 1));
  EXPECT_EQ(read_one(io, a), keepalive);
  EXPECT_EQ(server->stats().tx_messages, 2u);
}

// Bound to [::] on a host with several addresses (loopback has all of 127/8), the server
// answers a client from the address the client sent to: one connected to 127.0.0.2 hears
// data and control messages the route would have sent from 127.0.0.1, and drops.
TEST_F(UdpFixture, AWildcardServerAnswersFromTheAddressTheClientSentTo) {
  start_server("::");
  auto second = asio::ip::make_address("127.0.0.2");
  start_client({"127.0.0.2", server->local_port(), {{second, server->local_port()}}});
  ASSERT_TRUE(run_until(io, [&] { return client_rx.ups.size() == 1; }));
  send_message(*client, client_rx.ups[0], frame_of(84, 1));
  ASSERT_TRUE(run_until(io, [&] { return server_rx.messages.size() == 1; }));
  const transport::Endpoint from = server_rx.messages[0].from;
  EXPECT_EQ(from.local, second);
  send_message(*server, from, frame_of(1400, 2));
  ASSERT_TRUE(run_until(io, [&] { return client_rx.messages.size() == 1; }));
  std::vector<std::byte> keepalive = {std::byte{2}, std::byte{0}, std::byte{0}, std::byte{0}};
  EXPECT_TRUE(server->send_control(from, keepalive));
  ASSERT_TRUE(run_until(io, [&] { return client_rx.messages.size() == 2; }));
  EXPECT_EQ(client_rx.messages[1].bytes, keepalive);
  EXPECT_EQ(server->stats().tx_dropped, 0u);
}

// A remembered source the host no longer has (here never had) fails the send: it is
// forgotten, said once, and the messages go from the kernel's choice, none lost.
TEST_F(UdpFixture, ASourceNoLongerOnTheHostIsForgottenOnce) {
  start_server("::");
  udp::socket a(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  transport::Endpoint to = endpoint_of(a);
  to.address = asio::ip::make_address_v6(asio::ip::v4_mapped, to.address.to_v4());
  to.local = asio::ip::make_address("192.0.2.1");
  std::vector<std::byte> keepalive = {std::byte{2}, std::byte{0}, std::byte{0}, std::byte{0}};
  EXPECT_TRUE(server->send_control(to, keepalive));
  EXPECT_EQ(read_one(io, a), keepalive);
  send_message(*server, to, frame_of(100, 1));
  EXPECT_EQ(read_one(io, a), frame_of(100, 1));
  EXPECT_TRUE(server->send_control(to, keepalive));
  EXPECT_EQ(read_one(io, a), keepalive);
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) {
                            return l.find("cannot send from 192.0.2.1") != std::string::npos;
                          }),
            1);
  EXPECT_EQ(server->stats().tx_dropped, 0u);
}

// A client with a bind address sends from it (a swarm gives each client its own 127.x
// source); one not on this host is a failed connect, retried each
// second like a missing route, never sent from another address.
TEST_F(UdpFixture, ClientSendsFromItsBindAddress) {
  start_server();
  start_client(loopback_server(), asio::ip::make_address("127.0.0.2"));
  ASSERT_TRUE(run_until(io, [&] { return client_rx.ups.size() == 1; }));
  send_message(*client, server_endpoint(), frame_of(40, 1));
  ASSERT_TRUE(run_until(io, [&] { return server_rx.messages.size() == 1; }));
  EXPECT_EQ(server_rx.messages[0].from.address, asio::ip::make_address("127.0.0.2"));
  EXPECT_EQ(server_rx.messages[0].from.port, client->local_port());
}

TEST_F(UdpFixture, ABindAddressNotOnThisHostFailsTheConnect) {
  start_server();
  start_client(loopback_server(), asio::ip::make_address("192.0.2.1"));
  run_until(
      io, [] { return false; }, 100ms);
  EXPECT_TRUE(client_rx.ups.empty());
  EXPECT_FALSE(client->writable(server_endpoint()));
  EXPECT_TRUE(logged("cannot reach 127.0.0.1:")) << (lines.empty() ? "" : lines.back());
  clock.advance(proto::kRouteRetry);
  client->run_timers();
  EXPECT_TRUE(client_rx.ups.empty());
}

// The client sends only to the server address it is connected to.
TEST_F(UdpFixture, ClientIsWritableOnlyToItsServer) {
  start_server();
  start_client(loopback_server());
  ASSERT_TRUE(run_until(io, [&] { return client_rx.ups.size() == 1; }));
  transport::Endpoint other{asio::ip::make_address("127.0.0.1"), 9, 0};
  EXPECT_FALSE(client->writable(other));
  EXPECT_FALSE(client->send_control(other, util::as_bytes("x", 1)));
  EXPECT_TRUE(client->send_control(server_endpoint(), util::as_bytes("x", 1)));
  ASSERT_TRUE(run_until(io, [&] { return server_rx.messages.size() == 1; }));
}

// The server's name has two addresses and only the second answers (AAAA + A, the server
// on IPv4 only): the client moves on after proto::kAddressPatience without an answer,
// reopening its socket for the other family. Without IPv6 here, ::1 has no route and
// the client starts on the second address at once.
TEST_F(UdpFixture, ClientMovesOnToTheNextAddressWhenOneDoesNotAnswer) {
  start_server();
  std::uint16_t port = server->local_port();
  start_client(
      {"vpn.test",
       port,
       {{asio::ip::make_address("::1"), port}, {asio::ip::make_address("127.0.0.1"), port}}});
  ASSERT_TRUE(run_until(io, [&] { return client_rx.ups.size() == 1; }));
  if (client_rx.ups[0].address.is_v6()) {
    clock.advance(proto::kAddressPatience - 1ms);
    client->run_timers();
    EXPECT_TRUE(client_rx.downs.empty()) << "not before its patience ran out";
    clock.advance(1ms);
    client->run_timers();
    ASSERT_EQ(client_rx.downs.size(), 1u);
    EXPECT_EQ(client_rx.downs[0].endpoint, client_rx.ups[0]);
    EXPECT_TRUE(logged("no answer from [::1]:" + std::to_string(port) +
                       "; trying 127.0.0.1:" + std::to_string(port)));
    ASSERT_EQ(client_rx.ups.size(), 2u);
  }
  EXPECT_EQ(client_rx.ups.back(), server_endpoint());
  send_message(*client, server_endpoint(), frame_of(100, 9));
  ASSERT_TRUE(run_until(io, [&] { return server_rx.messages.size() == 1; }));
}

// An address whose peer answers (set_answering) is kept however long; one that stops
// answering gets the full patience from then on.
TEST_F(UdpFixture, AnAnsweringAddressIsKept) {
  start_server();
  std::uint16_t port = server->local_port();
  start_client(
      {"vpn.test",
       port,
       {{asio::ip::make_address("127.0.0.1"), port}, {asio::ip::make_address("127.0.0.2"), port}}});
  ASSERT_TRUE(run_until(io, [&] { return client_rx.ups.size() == 1; }));
  ASSERT_EQ(client_rx.ups[0], server_endpoint());
  client->set_answering(server_endpoint(), true);
  clock.advance(10 * proto::kAddressPatience);
  client->run_timers();
  EXPECT_TRUE(client_rx.downs.empty());
  client->set_answering(server_endpoint(), false);
  clock.advance(proto::kAddressPatience - 1ms);
  client->run_timers();
  EXPECT_TRUE(client_rx.downs.empty()) << "the patience starts when it stops answering";
  clock.advance(1ms);
  client->run_timers();
  ASSERT_EQ(client_rx.downs.size(), 1u);
  ASSERT_EQ(client_rx.ups.size(), 2u);
  EXPECT_EQ(client_rx.ups[1].address, asio::ip::make_address("127.0.0.2"));
  EXPECT_EQ(client_rx.downs[0].reason, "no answer; trying 127.0.0.2:" + std::to_string(port));
}

// The start-up lookup failed (no addresses yet): the client looks the name up itself.
TEST_F(UdpFixture, ClientWithoutAddressesLooksTheNameUp) {
  start_server();
  start_client({"127.0.0.1", server->local_port(), {}});
  ASSERT_TRUE(run_until(io, [&] { return client_rx.ups.size() == 1; }));
  EXPECT_EQ(client_rx.ups[0], server_endpoint());
}

TEST_F(UdpFixture, StopReportsNothingAndDeliversNothingMore) {
  start_server();
  start_client(loopback_server());
  ASSERT_TRUE(run_until(io, [&] { return client_rx.ups.size() == 1; }));
  send_message(*client, server_endpoint(), frame_of(10, 1));
  client->stop();
  server->stop();
  run_until(
      io, [] { return false; }, 20ms);
  EXPECT_TRUE(client_rx.downs.empty());
  EXPECT_TRUE(server_rx.messages.empty());
  EXPECT_FALSE(client->writable(server_endpoint()));
  client->stop();  // idempotent
}

TEST(SendErrors, EachKindIsToldApart) {
  using transport::SendFault;
  auto kind = [](int e) {
    return transport::classify_send_error(std::error_code(e, std::generic_category()));
  };
  EXPECT_EQ(kind(0), SendFault::none);
  EXPECT_EQ(kind(EAGAIN), SendFault::would_block);
  EXPECT_EQ(kind(ENOBUFS), SendFault::transient);
  for (int e : {ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, EDESTADDRREQ, ENETDOWN, EINVAL})
    EXPECT_EQ(kind(e), SendFault::no_route) << e;
  EXPECT_EQ(kind(ECONNREFUSED), SendFault::refused);
  EXPECT_EQ(kind(EPERM), SendFault::other);
  EXPECT_EQ(transport::classify_send_error(asio::error::network_unreachable), SendFault::no_route);
}

TEST_F(UdpFixture, PortInUseIsAStartupError) {
  start_server();
  transport::UdpOptions o;
  o.server = true;
  o.listen = asio::ip::make_address("127.0.0.1");
  o.port = server->local_port();
  EXPECT_THROW(transport::UdpTransport(io, o, log), transport::TransportError);
}

}  // namespace
}  // namespace tund::testing
