// The TCP transports over real loopback sockets: framing on the wire, hostile streams,
// client replacement and reconnection.
#include <gtest/gtest.h>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include "support/transport_harness.hpp"
#include "tund/transport/tcp_client.hpp"
#include "tund/transport/tcp_server.hpp"

namespace tund::testing {
namespace {

using asio::ip::tcp;
using namespace std::chrono_literals;

struct TcpFixture : ::testing::Test {
  asio::io_context io;
  util::Logger log{util::LogLevel::error};
  std::unique_ptr<transport::TcpServer> server;
  RecordingSink server_sink, client_sink;

  void start_server(std::uint16_t port = 0) {
    server =
        std::make_unique<transport::TcpServer>(io, asio::ip::make_address("127.0.0.1"), port, log);
    server->start(server_sink);
  }
  std::unique_ptr<transport::TcpClient> make_client(std::uint16_t port) {
    auto c = std::make_unique<transport::TcpClient>(
        io,
        transport::RemoteServer{"127.0.0.1", port, {{asio::ip::make_address("127.0.0.1"), port}}},
        log, fast_backoff());
    c->start(client_sink);
    return c;
  }
  // A raw socket that speaks whatever bytes the test wants.
  tcp::socket raw_connection() {
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->local_port()));
    return s;
  }
};

TEST_F(TcpFixture, FramesCrossBothWays) {
  start_server();
  auto client = make_client(server->local_port());
  ASSERT_TRUE(run_until(io, [&] { return server->peer_up() && client->peer_up(); }));
  send_frame(*client, frame_of(84, 1));
  send_frame(*server, frame_of(1400, 2));
  ASSERT_TRUE(run_until(
      io, [&] { return server_sink.frames.size() == 1 && client_sink.frames.size() == 1; }));
  EXPECT_EQ(server_sink.frames[0], frame_of(84, 1));
  EXPECT_EQ(client_sink.frames[0], frame_of(1400, 2));
}

TEST_F(TcpFixture, WireBytesAreLengthPrefixedPayloadsAndNothingElse) {
  start_server();
  auto raw = raw_connection();
  ASSERT_TRUE(run_until(io, [&] { return server->peer_up(); }));
  send_frame(*server, frame_of(3, 7));
  send_frame(*server, frame_of(2, 9));
  std::array<unsigned char, 9> got{};
  asio::read(raw, asio::buffer(got));
  std::array<unsigned char, 9> want{0, 3, 0x45, 7, 7, 0, 2, 0x45, 9};
  EXPECT_EQ(got, want);
  raw.non_blocking(true);
  std::error_code ec;
  char extra;
  raw.read_some(asio::buffer(&extra, 1), ec);
  EXPECT_EQ(ec, asio::error::would_block) << "nothing but frames may be sent";
}

TEST_F(TcpFixture, SimpletunStyleSeparateWritesAreReassembled) {
  start_server();
  auto raw = raw_connection();
  unsigned char length[2] = {0, 20};
  auto payload = frame_of(20, 3);
  asio::write(raw, asio::buffer(length));
  run_until(
      io, [] { return false; }, 20ms);
  asio::write(raw, asio::buffer(payload.data(), payload.size()));
  ASSERT_TRUE(run_until(io, [&] { return server_sink.frames.size() == 1; }));
  EXPECT_EQ(server_sink.frames[0], payload);
}

TEST_F(TcpFixture, ZeroLengthClosesTheConnectionAndARealClientStillGetsIn) {
  start_server();
  auto raw = raw_connection();
  unsigned char garbage[] = {0, 0, 1, 2, 3};
  asio::write(raw, asio::buffer(garbage));
  ASSERT_TRUE(run_until(io, [&] { return server->stats().rx_zero_length == 1; }));
  EXPECT_FALSE(server->peer_up());
  auto client = make_client(server->local_port());
  ASSERT_TRUE(run_until(io, [&] { return client->peer_up() && server->peer_up(); }));
  send_frame(*client, frame_of(60, 4));
  ASSERT_TRUE(run_until(io, [&] { return server_sink.frames.size() == 1; }));
}

// A peer with a larger MTU (simpletun's 1500 against our 1400) sends frames above our
// own MTU: they are delivered in sequence (the u16 length prefix is the only limit); the
// engine decides what the device takes.
TEST_F(TcpFixture, FramesAboveOurMtuAreDeliveredInSequence) {
  start_server();
  auto raw = raw_connection();
  std::vector<unsigned char> stream;
  std::vector<std::vector<std::byte>> sent = {frame_of(1500, 4), frame_of(65535, 5),
                                              frame_of(40, 6)};
  for (const auto& f : sent) {
    stream.push_back(static_cast<unsigned char>(f.size() >> 8));
    stream.push_back(static_cast<unsigned char>(f.size() & 0xff));
    for (auto b : f) stream.push_back(std::to_integer<unsigned char>(b));
  }
  asio::write(raw, asio::buffer(stream));
  ASSERT_TRUE(run_until(io, [&] { return server_sink.frames.size() == 3; }));
  EXPECT_EQ(server_sink.frames, sent);
  EXPECT_EQ(server->stats().rx_oversize, 0u);
  EXPECT_TRUE(server->peer_up());
}

TEST_F(TcpFixture, StreamEndingInsideAFrameIsCountedAsTruncated) {
  start_server();
  {
    auto raw = raw_connection();
    unsigned char partial[] = {0, 100, 0x45, 1, 2};
    asio::write(raw, asio::buffer(partial));
    run_until(
        io, [] { return false; }, 20ms);
  }  // closed mid-frame
  ASSERT_TRUE(run_until(io, [&] { return server->stats().rx_truncated == 1; }));
  EXPECT_TRUE(server_sink.frames.empty());
  EXPECT_FALSE(server->peer_up());
}

TEST_F(TcpFixture, ANewerClientReplacesTheCurrentOne) {
  start_server();
  auto first = raw_connection();
  ASSERT_TRUE(run_until(io, [&] { return server->stats().sessions == 1; }));
  auto second = raw_connection();
  ASSERT_TRUE(run_until(io, [&] { return server->stats().sessions == 2; }));
  EXPECT_EQ(server->stats().peer_changes, 1u);
  // The first connection was closed by the server.
  char byte;
  std::error_code ec;
  first.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  send_frame(*server, frame_of(10, 6));
  std::array<unsigned char, 12> got{};
  asio::read(second, asio::buffer(got));
  EXPECT_EQ(got[1], 10);
}

TEST_F(TcpFixture, ClientConnectsLateAndReconnectsAfterServerRestart) {
  // Find a free port, then release it: the client starts before any server exists.
  std::uint16_t port;
  {
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }
  auto client = make_client(port);
  run_until(
      io, [] { return false; }, 100ms);
  EXPECT_FALSE(client->peer_up());
  start_server(port);
  ASSERT_TRUE(run_until(io, [&] { return client->peer_up(); }));
  server->stop();
  server.reset();
  ASSERT_TRUE(run_until(io, [&] { return !client->peer_up(); }));
  start_server(port);
  ASSERT_TRUE(run_until(io, [&] { return client->peer_up() && server->peer_up(); }));
  send_frame(*client, frame_of(30, 8));
  ASSERT_TRUE(run_until(io, [&] { return server_sink.frames.size() == 1; }));
}

// Two plaintext clients on one server replace each other: each sees its connection closed
// at once. That must not reset its backoff (else they swap several times a second), and
// the warning must name the likelier cause. Here a server that closes every connection at
// once plays the other client.
TEST_F(TcpFixture, AConnectionClosedAtOnceDoesNotResetTheBackoff) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  int accepted = 0;
  std::function<void()> accept_one = [&] {
    acceptor.async_accept([&](std::error_code ec, tcp::socket s) {
      if (ec) return;
      ++accepted;
      s.close();
      accept_one();
    });
  };
  accept_one();
  std::vector<std::string> warnings;
  util::Logger client_log(util::LogLevel::warn, [&](util::LogLevel, std::string_view text) {
    warnings.emplace_back(text);
  });
  std::uint16_t port = acceptor.local_endpoint().port();
  // Delays 10, 20, 40, 80, 160, 200, 200... ms if never reset; 10 ms each if reset.
  transport::TcpClient client(io, transport::RemoteServer{"127.0.0.1", port, {}}, client_log,
                              util::Backoff(20ms, 400ms, [] { return 0.0; }));
  client.start(client_sink);
  run_until(
      io, [] { return false; }, 1000ms);
  client.stop();
  EXPECT_GE(accepted, 4);
  EXPECT_LE(accepted, 12) << "the backoff started over after connections that proved nothing";
  ASSERT_FALSE(warnings.empty());
  EXPECT_NE(warnings[0].find("another client"), std::string::npos) << warnings[0];
}

// Plaintext: anyone can connect, and each connection replaces the client. The lines about
// it are bounded (a burst, then a count), not one per connection.
TEST_F(TcpFixture, ConnectionLinesAreBounded) {
  std::vector<std::string> lines;
  util::Logger server_log(util::LogLevel::info,
                          [&](util::LogLevel, std::string_view text) { lines.emplace_back(text); });
  transport::TcpServer s(io, asio::ip::make_address("127.0.0.1"), 0, server_log);
  s.start(server_sink);
  std::vector<tcp::socket> sockets;
  for (int i = 0; i < 50; ++i) {
    sockets.emplace_back(io);
    sockets.back().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.local_port()));
  }
  ASSERT_TRUE(run_until(io, [&] { return s.stats().sessions == 50; }));
  std::size_t about_clients = 0;
  for (const auto& l : lines) about_clients += l.find("client") != std::string::npos;
  EXPECT_LE(about_clients, 10u);
  EXPECT_GE(about_clients, 1u);
}

// The start-up lookup failed (no addresses yet): each attempt looks the name up itself.
TEST_F(TcpFixture, ClientWithoutAddressesLooksTheNameUp) {
  start_server();
  transport::TcpClient client(io, transport::RemoteServer{"localhost", server->local_port(), {}},
                              log, fast_backoff());
  client.start(client_sink);
  ASSERT_TRUE(run_until(io, [&] { return client.peer_up() && server->peer_up(); }));
}

TEST_F(TcpFixture, PortInUseIsAStartupError) {
  start_server();
  try {
    transport::TcpServer second(io, asio::ip::make_address("127.0.0.1"), server->local_port(), log);
    FAIL() << "binding a used port must fail";
  } catch (const transport::TransportError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen on TCP 127.0.0.1:"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
}

TEST_F(TcpFixture, BackpressureWhenThePeerStopsReading) {
  start_server();
  auto raw = raw_connection();  // never reads
  ASSERT_TRUE(run_until(io, [&] { return server->peer_up(); }));
  int sent = 0;
  while (server->writable() && sent < 100000) {
    auto slot = server->tx_slot();
    std::fill_n(slot.begin(), 1400, std::byte{0x45});
    server->commit(1400);
    server->flush();
    ++sent;
  }
  EXPECT_FALSE(server->writable()) << "a stalled peer must stop the engine, not grow a queue";
  EXPECT_LT(sent, 100000);
}

// (An unresolvable name is tested end to end inside an isolated namespace, where the
// lookup cannot reach any real DNS server.)
TEST(Resolve, LiteralsResolveWithoutLookup) {
  asio::io_context io;
  auto v4 = transport::resolve(io, "127.0.0.1", 55555);
  ASSERT_FALSE(v4.empty());
  EXPECT_EQ(v4[0].port, 55555);
  auto v6 = transport::resolve(io, "::1", 55555);
  ASSERT_FALSE(v6.empty());
  EXPECT_TRUE(v6[0].address.is_v6());
}

TEST(EndpointFormat, MappedAddressesShowAsIpv4) {
  auto mapped = asio::ip::make_address("::ffff:198.18.0.2");
  EXPECT_EQ(transport::to_string(mapped, 40000), "198.18.0.2:40000");
  EXPECT_EQ(transport::to_string(asio::ip::make_address("2001:db8::1"), 1), "[2001:db8::1]:1");
}

}  // namespace
}  // namespace tund::testing
