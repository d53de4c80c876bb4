// The TCP pipes over real loopback sockets: framing on the wire, hostile streams, the set
// of connections (endpoints, adoption, the pending cap and deadline, close), backpressure,
// and the client's reconnection with its backoff and close-time messages.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include "support/manual_clock.hpp"
#include "support/transport_harness.hpp"
#include "tund/proto/causes.hpp"
#include "tund/transport/tcp_client.hpp"
#include "tund/transport/tcp_server.hpp"

namespace tund::testing {
namespace {

using asio::ip::tcp;
using namespace std::chrono_literals;

struct TcpFixture : ::testing::Test {
  asio::io_context io;
  std::vector<std::string> lines;  // what the transports logged
  util::Logger log{util::LogLevel::info,
                   [this](util::LogLevel, std::string_view text) { lines.emplace_back(text); }};
  ManualClock clock;
  std::unique_ptr<transport::TcpServer> server;
  RecordingReceiver server_rx, client_rx;

  void start_server(std::uint16_t port = 0, transport::TcpOptions options = {}) {
    server = std::make_unique<transport::TcpServer>(io, asio::ip::make_address("127.0.0.1"), port,
                                                    log, options, clock);
    server->start(server_rx);
  }
  static transport::RemoteServer loopback(std::uint16_t port) {
    return {"127.0.0.1", port, {{asio::ip::make_address("127.0.0.1"), port}}};
  }
  std::unique_ptr<transport::TcpClient> make_client(std::uint16_t port,
                                                    transport::TcpOptions options = {},
                                                    util::Backoff backoff = fast_backoff()) {
    auto c = std::make_unique<transport::TcpClient>(io, loopback(port), log, std::move(backoff),
                                                    options, clock);
    c->start(client_rx);
    return c;
  }
  // A raw socket that speaks whatever bytes the test wants; returns once the server has
  // reported it up.
  tcp::socket raw_connection() {
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->local_port()));
    std::size_t before = server_rx.ups.size();
    EXPECT_TRUE(run_until(io, [&] { return server_rx.ups.size() == before + 1; }));
    return s;
  }
  bool logged(const std::string& needle) const {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(needle) != std::string::npos; });
  }
  static bool closed_by_server(tcp::socket& s) {
    char byte;
    std::error_code ec;
    s.read_some(asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof;
  }
  static bool nothing_to_read(tcp::socket& s) {
    s.non_blocking(true);
    char byte;
    std::error_code ec;
    s.read_some(asio::buffer(&byte, 1), ec);
    s.non_blocking(false);
    return ec == asio::error::would_block;
  }
};

TEST_F(TcpFixture, FramesCrossBothWaysBetweenEndpoints) {
  start_server();
  auto client = make_client(server->local_port());
  ASSERT_TRUE(
      run_until(io, [&] { return server_rx.ups.size() == 1 && client_rx.ups.size() == 1; }));
  const transport::Endpoint at_server = server_rx.ups[0], at_client = client_rx.ups[0];
  EXPECT_EQ(at_server.connection, 1u);
  EXPECT_EQ(at_server.address, asio::ip::make_address("127.0.0.1"));
  EXPECT_EQ(at_client.connection, 1u);
  EXPECT_EQ(at_client.port, server->local_port());
  EXPECT_FALSE(server->datagram());
  send_message(*client, at_client, frame_of(84, 1));
  send_message(*server, at_server, frame_of(1400, 2));
  ASSERT_TRUE(run_until(
      io, [&] { return server_rx.messages.size() == 1 && client_rx.messages.size() == 1; }));
  EXPECT_EQ(server_rx.messages[0].bytes, frame_of(84, 1));
  EXPECT_EQ(server_rx.messages[0].from, at_server);
  EXPECT_EQ(client_rx.messages[0].bytes, frame_of(1400, 2));
  EXPECT_EQ(client_rx.messages[0].from, at_client);
  EXPECT_GE(server_rx.batch_ends, 1u);
  EXPECT_EQ(server->stats().rx_messages, 1u);
  EXPECT_EQ(server->stats().rx_bytes, 84u);
  EXPECT_EQ(client->stats().tx_messages, 1u);
  EXPECT_EQ(client->stats().tx_bytes, 84u);
  EXPECT_EQ(server->stats().connections, 1u);
  EXPECT_EQ(client->stats().connections, 1u);
}

TEST_F(TcpFixture, WireBytesAreLengthPrefixedPayloadsAndNothingElse) {
  start_server();
  auto raw = raw_connection();
  send_message(*server, server_rx.ups[0], frame_of(3, 7));
  send_message(*server, server_rx.ups[0], frame_of(2, 9));
  std::array<unsigned char, 9> got{};
  asio::read(raw, asio::buffer(got));
  std::array<unsigned char, 9> want{0, 3, 0x45, 7, 7, 0, 2, 0x45, 9};
  EXPECT_EQ(got, want);
  EXPECT_TRUE(nothing_to_read(raw)) << "nothing but frames may be sent";
}

// A control message (a handshake) is framed like any message and overtakes nothing.
TEST_F(TcpFixture, ControlMessagesAreFramedBehindWhatWasCommitted) {
  start_server();
  auto raw = raw_connection();
  commit_message(*server, server_rx.ups[0], frame_of(2, 1));
  std::array<std::byte, 3> control{std::byte{5}, std::byte{6}, std::byte{7}};
  EXPECT_TRUE(server->send_control(server_rx.ups[0], control));
  std::array<unsigned char, 9> got{};
  asio::read(raw, asio::buffer(got));
  std::array<unsigned char, 9> want{0, 2, 0x45, 1, 0, 3, 5, 6, 7};
  EXPECT_EQ(got, want);
  EXPECT_EQ(server->stats().tx_messages, 2u);
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
  ASSERT_TRUE(run_until(io, [&] { return server_rx.messages.size() == 1; }));
  EXPECT_EQ(server_rx.messages[0].bytes, payload);
}

TEST_F(TcpFixture, ZeroLengthClosesTheConnectionAndARealClientStillGetsIn) {
  start_server();
  auto raw = raw_connection();
  unsigned char garbage[] = {0, 0, 1, 2, 3};
  asio::write(raw, asio::buffer(garbage));
  ASSERT_TRUE(run_until(io, [&] { return server->stats().rx_zero_length == 1; }));
  ASSERT_EQ(server_rx.downs.size(), 1u);
  EXPECT_EQ(server_rx.downs[0].endpoint, server_rx.ups[0]);
  EXPECT_EQ(server_rx.downs[0].reason, "protocol error");
  EXPECT_TRUE(server_rx.messages.empty());
  EXPECT_TRUE(closed_by_server(raw));
  server_rx.adopt_on_up = server.get();
  auto client = make_client(server->local_port());
  ASSERT_TRUE(
      run_until(io, [&] { return client_rx.ups.size() == 1 && server_rx.ups.size() == 2; }));
  send_message(*client, client_rx.ups[0], frame_of(60, 4));
  ASSERT_TRUE(run_until(io, [&] { return server_rx.messages.size() == 1; }));
  EXPECT_EQ(server_rx.messages[0].from.connection, 2u) << "serial numbers are never reused";
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
  ASSERT_TRUE(run_until(io, [&] { return server_rx.messages.size() == 3; }));
  EXPECT_EQ(server_rx.payloads(), sent);
  EXPECT_EQ(server->stats().rx_oversize, 0u);
  EXPECT_TRUE(server_rx.downs.empty()) << "the connection stays";
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
  EXPECT_TRUE(server_rx.messages.empty());
  ASSERT_EQ(server_rx.downs.size(), 1u);
  EXPECT_EQ(server_rx.downs[0].reason, "closed by peer");
}

// Each connection is an endpoint of its own. A newer client is announced as replacing
// the adopted one; the engine then closes the old one, which the server does at once.
TEST_F(TcpFixture, EachConnectionIsAnEndpointAndCloseEndsIt) {
  start_server();
  server_rx.adopt_on_up = server.get();
  auto first = raw_connection();
  auto second = raw_connection();
  ASSERT_EQ(server_rx.ups.size(), 2u);
  EXPECT_EQ(server_rx.ups[0].connection, 1u);
  EXPECT_EQ(server_rx.ups[1].connection, 2u);
  EXPECT_EQ(server->stats().connections, 2u);
  EXPECT_TRUE(logged("client connected from 127.0.0.1:"));
  EXPECT_TRUE(logged(" connected; it replaces the current client"));
  server->close(server_rx.ups[0], "replaced");
  ASSERT_EQ(server_rx.downs.size(), 1u);
  EXPECT_EQ(server_rx.downs[0].endpoint, server_rx.ups[0]);
  EXPECT_EQ(server_rx.downs[0].reason, "replaced");
  EXPECT_TRUE(closed_by_server(first));
  EXPECT_FALSE(server->writable(server_rx.ups[0]));
  EXPECT_FALSE(server->send_control(server_rx.ups[0], util::as_bytes("x", 1)));
  send_message(*server, server_rx.ups[1], frame_of(10, 6));
  std::array<unsigned char, 12> got{};
  asio::read(second, asio::buffer(got));
  EXPECT_EQ(got[1], 10);
  EXPECT_FALSE(logged("waiting for a client")) << "the replaced client is not worth a line";
  // A message for a connection that is gone is counted, not sent.
  commit_message(*server, server_rx.ups[0], frame_of(10, 6));
  EXPECT_EQ(server->stats().tx_dropped, 1u);
}

// The line that the server is waiting for a client again comes when the last adopted
// connection ends, not for connections that never were adopted.
TEST_F(TcpFixture, WaitingForAClientOnlyWhenTheLastAdoptedConnectionEnds) {
  start_server();
  { auto stranger = raw_connection(); }
  ASSERT_TRUE(run_until(io, [&] { return server_rx.downs.size() == 1; }));
  EXPECT_FALSE(logged("waiting for a client"));
  {
    auto client = raw_connection();
    server->adopt(server_rx.ups[1]);
  }
  ASSERT_TRUE(run_until(io, [&] { return server_rx.downs.size() == 2; }));
  EXPECT_TRUE(logged("disconnected (closed by peer); waiting for a client"));
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
  EXPECT_TRUE(client_rx.ups.empty());
  EXPECT_TRUE(logged("cannot connect to 127.0.0.1:" + std::to_string(port)));
  start_server(port);
  ASSERT_TRUE(run_until(io, [&] { return client_rx.live().size() == 1; }));
  server->stop();
  server.reset();
  ASSERT_TRUE(run_until(io, [&] { return client_rx.downs.size() == 1; }));
  EXPECT_TRUE(client_rx.live().empty());
  server_rx = RecordingReceiver{};  // a new server: stop() reported nothing of the old one
  start_server(port);
  ASSERT_TRUE(
      run_until(io, [&] { return client_rx.live().size() == 1 && server_rx.live().size() == 1; }));
  EXPECT_EQ(client_rx.live()[0].connection, 2u);
  send_message(*client, client_rx.live()[0], frame_of(30, 8));
  ASSERT_TRUE(run_until(io, [&] { return server_rx.messages.size() == 1; }));
}

// A server that keeps every connection it accepts until the test closes it.
struct HoldingServer {
  tcp::acceptor acceptor;
  std::vector<tcp::socket> accepted;
  explicit HoldingServer(asio::io_context& io)
      : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept_one();
  }
  void accept_one() {
    acceptor.async_accept([this](std::error_code ec, tcp::socket s) {
      if (ec) return;
      accepted.push_back(std::move(s));
      accept_one();
    });
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
};

// Two plaintext clients on one server replace each other: each sees its connection closed
// at once. That must not reset its backoff (else they swap several times a second), and
// the warning must name the likelier cause. Only a connection that lived
// proto::kProvenAfter starts the backoff over.
TEST_F(TcpFixture, OnlyAProvenConnectionResetsTheBackoff) {
  HoldingServer holder(io);
  // Delays 0.1, 0.2, 0.4, 0.8 s if never reset (random ~1: no jitter to speak of).
  auto client = make_client(holder.port(), {}, util::Backoff(100ms, 800ms, [] { return 0.999; }));
  auto close_next = [&](std::size_t n, std::chrono::seconds lived) {
    EXPECT_TRUE(run_until(io, [&] { return holder.accepted.size() == n; }));
    EXPECT_TRUE(run_until(io, [&] { return client_rx.ups.size() == n; }));
    clock.advance(lived);
    holder.accepted.back().close();
    EXPECT_TRUE(run_until(io, [&] { return client_rx.downs.size() == n; }));
  };
  close_next(1, 0s);
  EXPECT_TRUE(
      logged("closed the connection at once (closed by peer): another client took "
             "over (the server serves one client at a time), or the server requires "
             "encryption (--private-key); reconnecting in 0.1 s"));
  close_next(2, 0s);
  EXPECT_TRUE(logged("reconnecting in 0.2 s")) << "the backoff grows";
  close_next(3, 5s);  // proven: the backoff starts over
  EXPECT_TRUE(logged("disconnected from 127.0.0.1:" + std::to_string(holder.port()) +
                     " (closed by peer); reconnecting in 0.1 s"));
  EXPECT_FALSE(logged("reconnecting in 0.4 s"));
  close_next(4, 0s);
  EXPECT_TRUE(
      logged("closed the connection at once (closed by peer): another client probably "
             "took over (the server serves one client at a time); reconnecting in 0.2 s"));
}

// Encrypted: a connection the server closes before the peer answered is a failed
// handshake, with its possible causes; after set_answering it is a disconnection.
TEST_F(TcpFixture, EncryptedClientTellsAFailedHandshakeFromADisconnection) {
  HoldingServer holder(io);
  transport::TcpOptions encrypted;
  encrypted.encrypted = true;
  auto client = make_client(holder.port(), encrypted);
  EXPECT_TRUE(logged("(tcp, encrypted)"));
  ASSERT_TRUE(
      run_until(io, [&] { return client_rx.ups.size() == 1 && holder.accepted.size() == 1; }));
  holder.accepted.back().close();
  ASSERT_TRUE(run_until(io, [&] { return client_rx.downs.size() == 1; }));
  EXPECT_TRUE(logged(std::string("closed before the handshake completed (closed by peer): ") +
                     proto::kUnansweredHandshakeCauses + "; reconnecting in "));
  ASSERT_TRUE(
      run_until(io, [&] { return client_rx.ups.size() == 2 && holder.accepted.size() == 2; }));
  client->set_answering(client_rx.ups[1], true);
  holder.accepted.back().close();
  ASSERT_TRUE(run_until(io, [&] { return client_rx.downs.size() == 2; }));
  EXPECT_TRUE(logged("disconnected from 127.0.0.1:"));
}

// A client with a bind address connects from it (a swarm gives each client its own 127.x
// source); the server sees that address. One not on this host, or of the other family,
// fails the connect (logged) and is retried with the backoff, never connected unbound.
TEST_F(TcpFixture, ClientConnectsFromItsBindAddress) {
  start_server();
  transport::TcpOptions from2, from3;
  from2.bind_address = asio::ip::make_address("127.0.0.2");
  from3.bind_address = asio::ip::make_address("127.0.0.3");
  auto a = make_client(server->local_port(), from2);
  auto b = make_client(server->local_port(), from3);
  ASSERT_TRUE(run_until(io, [&] { return server_rx.ups.size() == 2; }));
  std::vector<asio::ip::address> seen = {server_rx.ups[0].address, server_rx.ups[1].address};
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen[0], asio::ip::make_address("127.0.0.2"));
  EXPECT_EQ(seen[1], asio::ip::make_address("127.0.0.3"));
}

TEST_F(TcpFixture, ABindAddressThatCannotBeUsedFailsTheConnect) {
  start_server();
  transport::TcpOptions elsewhere, other_family;
  elsewhere.bind_address = asio::ip::make_address("192.0.2.1");  // TEST-NET-1, not ours
  other_family.bind_address = asio::ip::make_address("::1");
  auto a = make_client(server->local_port(), elsewhere);
  auto b = make_client(server->local_port(), other_family);
  run_until(
      io, [] { return false; }, 200ms);
  EXPECT_TRUE(server_rx.ups.empty());
  EXPECT_TRUE(client_rx.ups.empty());
  EXPECT_TRUE(logged("cannot bind to 192.0.2.1: "));
  EXPECT_TRUE(logged("cannot bind to ::1: "));
  EXPECT_TRUE(logged("; retrying in "));
}

// The client's close() ends its connection like the server's end would: reported down,
// then reconnected.
TEST_F(TcpFixture, ClientCloseReconnects) {
  start_server();
  auto client = make_client(server->local_port());
  ASSERT_TRUE(run_until(io, [&] { return client_rx.ups.size() == 1; }));
  client->close(client_rx.ups[0], "handshake failed");
  ASSERT_EQ(client_rx.downs.size(), 1u);
  EXPECT_EQ(client_rx.downs[0].reason, "handshake failed");
  ASSERT_TRUE(run_until(io, [&] { return client_rx.ups.size() == 2; }));
}

// Plaintext: anyone can connect, and each connection replaces the client. The lines about
// it are bounded (a burst, then a count), not one per connection.
TEST_F(TcpFixture, ConnectionLinesAreBounded) {
  start_server();
  server_rx.adopt_on_up = server.get();
  std::vector<tcp::socket> sockets;
  for (int i = 0; i < 50; ++i) {
    sockets.emplace_back(io);
    sockets.back().connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->local_port()));
  }
  ASSERT_TRUE(run_until(io, [&] { return server->stats().connections == 50; }));
  std::size_t about_clients = 0;
  for (const auto& l : lines) about_clients += l.find("client") != std::string::npos;
  EXPECT_LE(about_clients, 10u);
  EXPECT_GE(about_clients, 1u);
}

// Connections awaiting adoption are capped (--max-pending): at the cap the server stops
// accepting (the kernel's backlog holds the next ones) and accepts again when a pending
// one is adopted or closed. Nobody is cut; adopted connections do not count.
TEST_F(TcpFixture, AtThePendingCapAcceptingStopsUntilOneIsAdoptedOrClosed) {
  transport::TcpOptions options;
  options.max_pending = 2;
  start_server(0, options);
  const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), server->local_port());
  auto first = raw_connection();
  auto second = raw_connection();
  tcp::socket third(io), fourth(io);
  third.connect(at);  // completed by the kernel, waiting in the backlog
  run_until(
      io, [] { return false; }, 100ms);
  EXPECT_EQ(server_rx.ups.size(), 2u) << "nothing accepted at the cap";
  EXPECT_EQ(server->stats().accept_paused, 1u);
  server->adopt(server_rx.ups[1]);
  ASSERT_TRUE(run_until(io, [&] { return server_rx.ups.size() == 3; }));
  fourth.connect(at);
  run_until(
      io, [] { return false; }, 100ms);
  EXPECT_EQ(server_rx.ups.size(), 3u) << "first and third are pending: the cap again";
  first.close();
  ASSERT_TRUE(run_until(io, [&] { return server_rx.ups.size() == 4; }));
  ASSERT_EQ(server_rx.downs.size(), 1u) << "only the one that left";
  EXPECT_EQ(server_rx.downs[0].endpoint, server_rx.ups[0]);
  EXPECT_EQ(server->stats().accept_paused, 3u) << "third and fourth pending: the cap again";
  EXPECT_EQ(server->stats().rx_refused_connections, 0u);
  EXPECT_TRUE(nothing_to_read(third) && nothing_to_read(fourth)) << "none was cut";
}

// At the cap, a pending connection that has had its grace (proto::kPendingGrace) makes
// room: it is dropped (counted, complained of) and the next one accepted, so strangers
// holding every slot lock nobody out for the whole handshake deadline.
TEST_F(TcpFixture, APendingConnectionPastItsGraceMakesRoomAtTheCap) {
  transport::TcpOptions options;
  options.max_pending = 2;
  start_server(0, options);
  auto first = raw_connection();
  auto second = raw_connection();
  tcp::socket third(io);
  third.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->local_port()));
  run_until(
      io, [] { return false; }, 50ms);
  ASSERT_EQ(server_rx.ups.size(), 2u);
  clock.advance(proto::kPendingGrace);
  ASSERT_TRUE(run_until(io, [&] { return server_rx.ups.size() == 3; }));
  ASSERT_EQ(server_rx.downs.size(), 1u);
  EXPECT_EQ(server_rx.downs[0].endpoint, server_rx.ups[0]) << "the oldest goes";
  EXPECT_EQ(server_rx.downs[0].reason, "too many connections awaiting a handshake");
  EXPECT_TRUE(closed_by_server(first));
  EXPECT_EQ(server->stats().rx_refused_connections, 1u);
  EXPECT_TRUE(logged(": too many connections awaiting a handshake"));
}

// Many clients at once (a hub's start): with the smallest cap every one gets in, in turn, as
// the engine adopts each after its first message (its "handshake").
TEST_F(TcpFixture, ManyClientsConnectingTogetherAllGetInPastASmallCap) {
  struct AdoptOnMessage : RecordingReceiver {
    transport::Transport* server = nullptr;
    void on_message(const transport::Endpoint& from, util::ByteSpan message) override {
      RecordingReceiver::on_message(from, message);
      server->adopt(from);
    }
  } rx;
  transport::TcpOptions options;
  options.max_pending = 1;
  server = std::make_unique<transport::TcpServer>(io, asio::ip::make_address("127.0.0.1"), 0, log,
                                                  options, clock);
  rx.server = server.get();
  server->start(rx);
  const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), server->local_port());
  std::vector<tcp::socket> clients;
  const unsigned char hello[3] = {0, 1, 0x45};
  for (int i = 0; i < 200; ++i) {
    clients.emplace_back(io);
    clients.back().connect(at);
    asio::write(clients.back(), asio::buffer(hello));
  }
  ASSERT_TRUE(run_until(io, [&] { return rx.messages.size() == 200; }));
  EXPECT_EQ(rx.ups.size(), 200u);
  EXPECT_TRUE(rx.downs.empty());
  EXPECT_GE(server->stats().accept_paused, 1u);
}

// Out of descriptors (EMFILE): accepting pauses (proto::kAcceptPause) rather than failing
// again at once, is logged once, counted, and the waiting client gets in once it works.
TEST_F(TcpFixture, OutOfDescriptorsPausesAcceptingAndLogsOnce) {
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizers' runtime needs descriptors of its own (its type checks read the
  // process's maps) and reports a false error when it has none; the normal build runs it,
  // and tests/e2e/test_hostile_fd_exhaustion.sh runs the daemon out of descriptors.
  GTEST_SKIP() << "no descriptor to spare for the sanitizer runtime";
#endif
  start_server();
  tcp::socket client(io);
  client.open(tcp::v4());
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  int next_fd = ::dup(0);
  ASSERT_GE(next_fd, 0);
  ::close(next_fd);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(next_fd);  // no new descriptor from here on
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  client.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->local_port()));
  bool failed = run_until(io, [&] { return server->stats().accept_errors >= 1; });
  run_until(
      io, [] { return false; }, 200ms);  // within the pause: no retry
  std::uint64_t errors = server->stats().accept_errors;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_TRUE(failed);
  EXPECT_EQ(errors, 1u) << "paused, not retried at once";
  ASSERT_TRUE(run_until(
      io, [&] { return server_rx.ups.size() == 1; }, 5s));
  EXPECT_EQ(std::count_if(
                lines.begin(), lines.end(),
                [](const std::string& l) { return l.find("accept failed") != std::string::npos; }),
            1);
  EXPECT_TRUE(logged("accepting connections again (1 failed accepts)"));
}

// A connection not adopted within proto::kHandshakeDeadline is closed.
TEST_F(TcpFixture, PendingConnectionsHaveADeadline) {
  start_server();
  auto adopted = raw_connection();
  server->adopt(server_rx.ups[0]);
  auto waiting = raw_connection();
  clock.advance(proto::kHandshakeDeadline);
  server->run_timers();
  EXPECT_TRUE(server_rx.downs.empty()) << "not before the deadline has passed";
  clock.advance(1ms);
  server->run_timers();
  ASSERT_EQ(server_rx.downs.size(), 1u);
  EXPECT_EQ(server_rx.downs[0].endpoint, server_rx.ups[1]);
  EXPECT_EQ(server_rx.downs[0].reason, "handshake timeout");
  EXPECT_TRUE(logged("sent no valid handshake in time"));
  EXPECT_TRUE(closed_by_server(waiting));
  EXPECT_TRUE(server->writable(server_rx.ups[0]));
}

// Messages committed to several connections wait for flush(), then each connection gets
// its own, in order.
TEST_F(TcpFixture, CommittedMessagesAreSentPerConnectionOnFlush) {
  start_server();
  auto a = raw_connection();
  auto b = raw_connection();
  commit_message(*server, server_rx.ups[0], frame_of(3, 1));
  commit_message(*server, server_rx.ups[1], frame_of(3, 2));
  commit_message(*server, server_rx.ups[0], frame_of(3, 3));
  EXPECT_TRUE(nothing_to_read(a));
  EXPECT_TRUE(nothing_to_read(b));
  server->flush();
  std::array<unsigned char, 10> got_a{};
  asio::read(a, asio::buffer(got_a));
  EXPECT_EQ(got_a, (std::array<unsigned char, 10>{0, 3, 0x45, 1, 1, 0, 3, 0x45, 3, 3}));
  std::array<unsigned char, 5> got_b{};
  asio::read(b, asio::buffer(got_b));
  EXPECT_EQ(got_b, (std::array<unsigned char, 5>{0, 3, 0x45, 2, 2}));
}

// The start-up lookup failed (no addresses yet): each attempt looks the name up itself.
TEST_F(TcpFixture, ClientWithoutAddressesLooksTheNameUp) {
  start_server();
  transport::TcpClient client(io, transport::RemoteServer{"localhost", server->local_port(), {}},
                              log, fast_backoff(), {}, clock);
  client.start(client_rx);
  ASSERT_TRUE(
      run_until(io, [&] { return client_rx.ups.size() == 1 && server_rx.ups.size() == 1; }));
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

TEST_F(TcpFixture, BackpressureWhenThePeerStopsReadingAndResumeWhenItDrains) {
  start_server();
  auto raw = raw_connection();  // does not read, for now
  const transport::Endpoint to = server_rx.ups[0];
  int sent = 0;
  while (server->writable(to) && sent < 100000) {
    auto slot = server->message_slot(to);
    ASSERT_GE(slot.size(), transport::kMaxMessage);
    std::fill_n(slot.begin(), 1400, std::byte{0x45});
    server->commit(to, 1400);
    server->flush();
    ++sent;
  }
  EXPECT_FALSE(server->writable(to)) << "a stalled peer must stop the engine, not grow a queue";
  EXPECT_LT(sent, 100000);
  bool resumed = false;
  server->when_writable([&] { resumed = true; });
  std::vector<char> sink(1 << 16);
  raw.non_blocking(true);
  ASSERT_TRUE(run_until(io, [&] {
    std::error_code ec;
    while (raw.read_some(asio::buffer(sink), ec) > 0) {
    }
    return resumed;
  }));
  EXPECT_TRUE(server->writable(to));
}

TEST_F(TcpFixture, StopClosesEverythingWithoutReportingIt) {
  start_server();
  auto raw = raw_connection();
  server->stop();
  EXPECT_TRUE(server_rx.downs.empty());
  EXPECT_TRUE(closed_by_server(raw));
  server->stop();  // idempotent
}

// (An unresolvable name is tested end to end inside an isolated namespace, where the
// lookup cannot reach any real DNS server.)
// Memory per connection (a hub holds a thousand): a connection awaiting its handshake
// holds no buffer of its own, even after a message; one that carried traffic gives its
// buffers back after a timer tick without any, and works as before afterwards.
TEST_F(TcpFixture, ConnectionsHoldNoBuffersWhilePendingOrIdle) {
  start_server();
  auto a = raw_connection();
  auto b = raw_connection();
  EXPECT_EQ(server->connection_buffers(), 0u);
  const unsigned char hello[4] = {0, 2, 0x45, 0};
  asio::write(a, asio::buffer(hello));
  ASSERT_TRUE(run_until(io, [&] { return server_rx.messages.size() == 1; }));
  EXPECT_EQ(server->connection_buffers(), 0u) << "a whole frame read leaves nothing behind";
  server->adopt(server_rx.ups[0]);
  commit_message(*server, server_rx.ups[0], frame_of(1400, 1));
  EXPECT_GT(server->connection_buffers(), 0u) << "the output buffer, once written";
  server->flush();
  server->run_timers();
  EXPECT_GT(server->connection_buffers(), 0u) << "not released in the tick that saw traffic";
  server->run_timers();
  EXPECT_EQ(server->connection_buffers(), 0u) << "released after a tick without traffic";
  std::vector<unsigned char> got(2 + 1400);
  asio::read(a, asio::buffer(got));
  send_message(*server, server_rx.ups[0], frame_of(100, 2));
  got.resize(2 + 100);
  asio::read(a, asio::buffer(got));
  EXPECT_EQ(got[1], 100);
  EXPECT_EQ(got[2 + 1], 2) << "sent from a buffer mapped again";
}

// A frame split across reads survives the idle release between its halves (the partial
// frame is kept at its size), and one split across many reads is reassembled.
TEST_F(TcpFixture, APartialFrameSurvivesTheIdleRelease) {
  start_server();
  auto raw = raw_connection();
  auto frame = frame_of(3000, 5);
  std::vector<unsigned char> wire = {3000 >> 8, 3000 & 0xff};
  for (std::byte b : frame) wire.push_back(std::to_integer<unsigned char>(b));
  asio::write(raw, asio::buffer(wire.data(), 1000));
  run_until(io, [&] { return server->connection_buffers() > 0; });
  EXPECT_GE(server->connection_buffers(), 1000u);
  server->run_timers();
  server->run_timers();
  EXPECT_GE(server->connection_buffers(), 1000u) << "an incomplete frame is kept";
  for (std::size_t at = 1000; at < wire.size(); at += 700) {
    asio::write(raw, asio::buffer(wire.data() + at, std::min<std::size_t>(700, wire.size() - at)));
    run_until(
        io, [] { return false; }, 5ms);
  }
  ASSERT_TRUE(run_until(io, [&] { return server_rx.messages.size() == 1; }));
  EXPECT_EQ(server_rx.messages[0].bytes, frame);
  EXPECT_TRUE(server_rx.downs.empty());
  server->run_timers();
  server->run_timers();
  EXPECT_EQ(server->connection_buffers(), 0u) << "the partial buffer goes once idle";
}

// A control message with nothing queued goes straight to the socket (no buffer), framed.
TEST_F(TcpFixture, AControlMessageWithNothingQueuedNeedsNoBuffer) {
  start_server();
  auto raw = raw_connection();
  std::vector<std::byte> keepalive = {std::byte{2}, std::byte{0}, std::byte{0}, std::byte{0}};
  EXPECT_TRUE(server->send_control(server_rx.ups[0], keepalive));
  EXPECT_EQ(server->connection_buffers(), 0u);
  std::array<unsigned char, 6> got{};
  asio::read(raw, asio::buffer(got));
  EXPECT_EQ(got, (std::array<unsigned char, 6>{0, 4, 2, 0, 0, 0}));
}

// when_writable with several connections: `resume` runs once when the blocked one drains,
// not for traffic on another that never blocked, so an engine with per-peer queues retries
// only the blocked peers when it runs.
TEST_F(TcpFixture, ResumeRunsOnceWhenTheBlockedConnectionDrains) {
  start_server();
  auto stalled = raw_connection();  // does not read, for now
  auto busy = raw_connection();
  const transport::Endpoint blocked = server_rx.ups[0], other = server_rx.ups[1];
  server->adopt(blocked);
  server->adopt(other);
  for (int sent = 0; server->writable(blocked) && sent < 100000; ++sent) {
    commit_message(*server, blocked, frame_of(1400, 1));
    server->flush();
  }
  ASSERT_FALSE(server->writable(blocked));
  int resumed = 0;
  server->when_writable([&] { ++resumed; });
  ASSERT_TRUE(server->writable(other)) << "one stalled peer does not block the other";
  send_message(*server, other, frame_of(500, 2));
  std::vector<unsigned char> got(2 + 500);
  asio::read(busy, asio::buffer(got));
  run_until(
      io, [] { return false; }, 50ms);
  EXPECT_EQ(resumed, 0) << "traffic on a writable connection is no reason to resume";
  std::vector<char> sink(1 << 16);
  stalled.non_blocking(true);
  ASSERT_TRUE(run_until(io, [&] {
    std::error_code ec;
    while (stalled.read_some(asio::buffer(sink), ec) > 0) {
    }
    return resumed > 0;
  }));
  EXPECT_TRUE(server->writable(blocked));
  run_until(
      io, [] { return false; }, 50ms);
  EXPECT_EQ(resumed, 1) << "once";
}

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
  EXPECT_EQ(transport::to_string(transport::Endpoint{mapped, 40000, 7}), "198.18.0.2:40000");
}

}  // namespace
}  // namespace tund::testing
