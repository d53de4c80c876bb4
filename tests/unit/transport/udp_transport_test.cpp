// The UDP transport over loopback: probing, data both ways, refusal of malformed
// datagrams, following a client whose address changes, and dead-peer detection.
#include "tund/transport/udp_transport.hpp"

#include <gtest/gtest.h>

#include <asio/ip/udp.hpp>

#include "support/transport_harness.hpp"

namespace tund::testing {
namespace {

using asio::ip::udp;
using namespace std::chrono_literals;

struct UdpFixture : ::testing::Test {
  asio::io_context io;
  util::Logger log{util::LogLevel::error};
  RecordingSink server_sink, client_sink;
  std::unique_ptr<transport::UdpTransport> server, client;
  std::chrono::milliseconds keepalive = 10s;

  void start_server() {
    transport::UdpOptions o;
    o.server = true;
    o.listen = asio::ip::make_address("127.0.0.1");
    o.keepalive = keepalive;
    server = std::make_unique<transport::UdpTransport>(io, o, log, fast_backoff());
    server->start(server_sink);
  }
  void start_client() {
    transport::UdpOptions o;
    o.remote = {"127.0.0.1",
                server->local_port(),
                {{asio::ip::make_address("127.0.0.1"), server->local_port()}}};
    o.keepalive = keepalive;
    client = std::make_unique<transport::UdpTransport>(io, o, log, fast_backoff());
    client->start(client_sink);
  }
  udp::endpoint server_endpoint() const {
    return {asio::ip::make_address("127.0.0.1"), server->local_port()};
  }
  static std::vector<unsigned char> keepalive_datagram() { return {2, 0, 0, 0}; }
};

TEST_F(UdpFixture, ClientProbesUntilTheServerAnswersThenDataFlows) {
  start_server();
  start_client();
  EXPECT_FALSE(client->peer_up());
  ASSERT_TRUE(run_until(io, [&] { return client->peer_up() && server->peer_up(); }));
  send_frame(*client, frame_of(84, 1));
  send_frame(*server, frame_of(1400, 2));
  ASSERT_TRUE(run_until(
      io, [&] { return server_sink.frames.size() == 1 && client_sink.frames.size() == 1; }));
  EXPECT_EQ(server_sink.frames[0], frame_of(84, 1));
  EXPECT_EQ(client_sink.frames[0], frame_of(1400, 2));
}

TEST_F(UdpFixture, WrongShapedDatagramsAreDroppedCountedAndNotAnswered) {
  start_server();
  udp::socket attacker(io, udp::endpoint(udp::v4(), 0));
  std::vector<std::vector<unsigned char>> junk = {
      {}, {1}, {1, 0, 0}, {1, 0, 0, 0}, {9, 0, 0, 0, 1}, {1, 1, 0, 0, 0x45}, {2, 0, 0, 0, 7}};
  for (const auto& j : junk) attacker.send_to(asio::buffer(j), server_endpoint());
  ASSERT_TRUE(run_until(io, [&] { return server->stats().rx_bad_datagram == junk.size(); }));
  EXPECT_EQ(server->stats().rx_oversize, 0u);
  EXPECT_FALSE(server->peer_up());
  EXPECT_TRUE(server_sink.frames.empty());
  attacker.non_blocking(true);
  std::error_code ec;
  char reply[64];
  attacker.receive(asio::buffer(reply), 0, ec);
  EXPECT_EQ(ec, asio::error::would_block) << "malformed input must never be answered";
}

// A peer with a larger MTU (simpletun's 1500 against our 1400) sends frames above our own
// MTU: the transport delivers them (the wire format's limit is what counts); the engine
// decides what the device takes.
TEST_F(UdpFixture, FramesAboveOurMtuAreDelivered) {
  start_server();
  start_client();
  ASSERT_TRUE(run_until(io, [&] { return client->peer_up() && server->peer_up(); }));
  send_frame(*client, frame_of(1500, 4));
  send_frame(*server, frame_of(9000, 5));
  ASSERT_TRUE(run_until(
      io, [&] { return server_sink.frames.size() == 1 && client_sink.frames.size() == 1; }));
  EXPECT_EQ(server_sink.frames[0], frame_of(1500, 4));
  EXPECT_EQ(client_sink.frames[0], frame_of(9000, 5));
  EXPECT_EQ(server->stats().rx_oversize + client->stats().rx_oversize, 0u);
}

// The server's name has two addresses and only the second answers (AAAA + A, the server
// on IPv4 only): the client moves on after a few seconds of silence, reopening its socket
// for the other family.
TEST_F(UdpFixture, ClientMovesOnToTheNextAddressWhenOneDoesNotAnswer) {
  start_server();
  transport::UdpOptions o;
  std::uint16_t port = server->local_port();
  o.remote = {"vpn.test",
              port,
              {{asio::ip::make_address("::1"), port}, {asio::ip::make_address("127.0.0.1"), port}}};
  client = std::make_unique<transport::UdpTransport>(io, o, log, fast_backoff());
  client->start(client_sink);
  ASSERT_TRUE(run_until(
      io, [&] { return client->peer_up() && server->peer_up(); }, 8s));
  send_frame(*client, frame_of(100, 9));
  ASSERT_TRUE(run_until(io, [&] { return server_sink.frames.size() == 1; }));
}

// The start-up lookup failed (no addresses yet): the client looks the name up itself.
TEST_F(UdpFixture, ClientWithoutAddressesLooksTheNameUp) {
  start_server();
  transport::UdpOptions o;
  o.remote = {"127.0.0.1", server->local_port(), {}};
  client = std::make_unique<transport::UdpTransport>(io, o, log, fast_backoff());
  client->start(client_sink);
  ASSERT_TRUE(run_until(io, [&] { return client->peer_up() && server->peer_up(); }));
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

TEST_F(UdpFixture, ServerFollowsTheClientToANewAddress) {
  start_server();
  udp::socket before(io, udp::endpoint(udp::v4(), 0)), after(io, udp::endpoint(udp::v4(), 0));
  before.send_to(asio::buffer(keepalive_datagram()), server_endpoint());
  ASSERT_TRUE(run_until(io, [&] { return server->peer_up(); }));
  // The NAT in front of the client rebinds: the same client now appears from another port.
  std::vector<unsigned char> data = {1, 0, 0, 0, 0x45, 0, 0, 20};
  data.resize(4 + 20, 0);
  after.send_to(asio::buffer(data), server_endpoint());
  ASSERT_TRUE(run_until(io, [&] { return server_sink.frames.size() == 1; }));
  EXPECT_EQ(server->stats().peer_changes, 1u);
  send_frame(*server, frame_of(30, 3));
  std::array<unsigned char, 64> got{};
  std::size_t n = 0;
  after.non_blocking(true);
  ASSERT_TRUE(run_until(io,
                        [&] {
                          std::error_code ec;
                          n = after.receive(asio::buffer(got), 0, ec);
                          return !ec &&
                                 got[0] == 1;  // skip the keepalive answer, wait for the data
                        }))
      << "tx " << server->stats().tx_frames << " dropped " << server->stats().tx_dropped;
  EXPECT_EQ(n, 4u + 30u);
  EXPECT_EQ(server->stats().tx_frames, 1u);
  EXPECT_EQ(server->stats().tx_dropped, 0u);
}

TEST_F(UdpFixture, SilentPeerIsDeclaredGoneAndTheClientProbesAgain) {
  keepalive = 100ms;
  start_server();
  start_client();
  ASSERT_TRUE(run_until(io, [&] { return client->peer_up() && server->peer_up(); }));
  // Keepalives keep an idle tunnel up well past three intervals.
  run_until(
      io, [] { return false; }, 600ms);
  EXPECT_TRUE(client->peer_up());
  EXPECT_TRUE(server->peer_up());
  server->stop();
  server.reset();
  ASSERT_TRUE(run_until(
      io, [&] { return !client->peer_up(); }, 3s));
  EXPECT_EQ(client_sink.states, (std::vector<bool>{true, false}));
}

TEST_F(UdpFixture, PortInUseIsAStartupError) {
  start_server();
  transport::UdpOptions o;
  o.server = true;
  o.listen = asio::ip::make_address("127.0.0.1");
  o.port = server->local_port();
  EXPECT_THROW(transport::UdpTransport(io, o, log, fast_backoff()), transport::TransportError);
}

}  // namespace
}  // namespace tund::testing
