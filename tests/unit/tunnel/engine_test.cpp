// Two engines, each with a fake device, joined by in-memory transports: a packet read
// from one device must come out of the other, without root or sockets.
#include "tund/tunnel/engine.hpp"

#include <gtest/gtest.h>

#include "support/engine_harness.hpp"
#include "support/fake_device.hpp"
#include "tund/link/checksum.hpp"
#include "tund/proto/wire.hpp"

namespace tund::testing {
namespace {

struct EnginePair : ::testing::Test {
  asio::io_context io;
  std::vector<std::string> lines;
  util::Logger log{util::LogLevel::warn,
                   [this](util::LogLevel, std::string_view text) { lines.emplace_back(text); }};
  FakeDevice dev_a{io, device::LinkLayer::ip}, dev_b{io, device::LinkLayer::ip};
  LoopbackBind net_a{io, false, true, 1}, net_b{io, false, false, 2};
  tunnel::Engine a{engine_parts(dev_a, net_a, log, true)},
      b{engine_parts(dev_b, net_b, log, false)};

  EnginePair() {
    LoopbackBind::connect(net_a, net_b);
    a.start();
    b.start();
  }
  void run() {
    io.restart();
    io.poll();
  }
};

TEST_F(EnginePair, PacketsCrossBothWays) {
  dev_a.inject(ipv4_packet(56, std::byte{1}));
  dev_b.inject(ipv4_packet(100, std::byte{2}));
  run();
  ASSERT_EQ(dev_b.written().size(), 1u);
  EXPECT_EQ(dev_b.written()[0], ipv4_packet(56, std::byte{1}));
  ASSERT_EQ(dev_a.written().size(), 1u);
  EXPECT_EQ(dev_a.written()[0], ipv4_packet(100, std::byte{2}));
  EXPECT_EQ(a.stats().device_reads, 1u);
  EXPECT_EQ(b.stats().device_writes, 1u);
  // Plaintext: anyone may have written these frames, so merging verifies every checksum.
  EXPECT_FALSE(dev_a.checksums_trusted());
  EXPECT_FALSE(dev_b.checksums_trusted());
}

TEST_F(EnginePair, ABurstIsSentAsBatchesWithOneFlushEach) {
  for (int i = 0; i < 200; ++i) dev_a.inject(ipv4_packet(1000));
  run();
  EXPECT_EQ(dev_b.written().size(), 200u);
  // 64 packets per batch: 200 packets need 4 flushes, not 200.
  EXPECT_LE(net_a.flushes(), 5u);
}

// The transport goes over its high-water mark inside a batch (large frames: 64 of 4000
// bytes exceed a TCP link's 128 KiB), and the flush that follows drains it completely. No
// writable event will ever come then: the engine must carry on by itself, not wait for one
// (it used to, and a TCP tunnel with an MTU of 2500 or more stalled for good).
TEST_F(EnginePair, KeepsGoingWhenTheFlushDrainsTheTransportAtOnce) {
  net_a.set_high_water(10);
  for (int i = 0; i < 200; ++i) dev_a.inject(ipv4_packet(1000));
  run();
  EXPECT_EQ(dev_a.pending(), 0u);
  EXPECT_EQ(dev_b.written().size(), 200u);
  EXPECT_FALSE(net_a.waiting_for_writable());
}

TEST_F(EnginePair, StopsReadingTheDeviceWhileTheTransportIsFull) {
  net_a.set_writable(false);
  for (int i = 0; i < 10; ++i) dev_a.inject(ipv4_packet(64));
  run();
  EXPECT_EQ(dev_a.pending(), 10u) << "the device must not be read while the socket is behind";
  EXPECT_TRUE(net_a.waiting_for_writable());
  net_a.set_writable(true);
  run();
  EXPECT_EQ(dev_a.pending(), 0u);
  EXPECT_EQ(dev_b.written().size(), 10u);
}

TEST_F(EnginePair, DropsAndCountsPacketsWhileNoPeer) {
  net_a.set_up(false);
  dev_a.inject(ipv4_packet(64));
  dev_a.inject(ipv4_packet(64));
  run();
  EXPECT_EQ(dev_a.pending(), 0u);
  EXPECT_EQ(a.stats().dropped[tunnel::Drop::no_peer], 2u);
  EXPECT_TRUE(dev_b.written().empty());
  net_a.set_up(true);
  dev_a.inject(ipv4_packet(64));
  run();
  EXPECT_EQ(dev_b.written().size(), 1u);
}

TEST_F(EnginePair, RefusesFramesThatAreNotPackets) {
  net_b.deliver({std::byte{0x00}, std::byte{0x01}});  // version 0
  net_b.deliver(Packet(10, std::byte{0x45}));         // IPv4 shorter than a header
  net_b.deliver(Packet(30, std::byte{0x60}));         // IPv6 shorter than a header
  run();
  EXPECT_TRUE(dev_b.written().empty());
  EXPECT_EQ(b.stats().dropped[tunnel::Drop::malformed], 3u);
}

// A peer with keys talking to a plaintext TCP tunnel: its handshake is not a packet, and the
// log says what is wrong rather than "non-IP".
TEST_F(EnginePair, AnEncryptedPeersHandshakeIsNamedAsSuch) {
  Packet initiation(proto::kInitiationSize);
  initiation[0] = static_cast<std::byte>(proto::MessageType::handshake_initiation);
  net_b.deliver(initiation);
  run();
  EXPECT_TRUE(dev_b.written().empty());
  EXPECT_EQ(b.stats().dropped[tunnel::Drop::malformed], 1u);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("handshake initiation: encryption is off here"), std::string::npos)
      << lines[0];
}

TEST_F(EnginePair, CountsFramesArrivingWhileTheInterfaceIsDown) {
  dev_b.fail_writes(std::errc::io_error);
  dev_a.inject(ipv4_packet(64));
  dev_a.inject(ipv4_packet(64));
  run();
  EXPECT_EQ(b.stats().dropped[tunnel::Drop::device_down], 2u);
  EXPECT_EQ(b.stats().device_write_errors, 0u);
  dev_b.fail_writes(std::nullopt);
  dev_a.inject(ipv4_packet(64));
  run();
  EXPECT_EQ(b.stats().device_writes, 1u);
}

TEST_F(EnginePair, CountsOtherDeviceWriteErrors) {
  dev_b.fail_writes(std::errc::no_buffer_space);
  dev_a.inject(ipv4_packet(64));
  run();
  EXPECT_EQ(b.stats().device_write_errors, 1u);
}

// The responder answers pings to the link address inside the engine: the reply goes back
// to the device, nothing crosses the tunnel, with or without a peer.
TEST(EngineWithResponder, LinkPingsAreAnsweredLocallyAndNeverCross) {
  asio::io_context io;
  util::Logger log{util::LogLevel::error};
  FakeDevice dev_a{io, device::LinkLayer::ip}, dev_b{io, device::LinkLayer::ip};
  LoopbackBind net_a{io, false, true, 1}, net_b{io, false, false, 2};
  LoopbackBind::connect(net_a, net_b);
  link::ResponderConfig rc;
  rc.link_ip = link::Ipv4{10, 0, 0, 1};
  link::Responder responder(rc);
  tunnel::Engine a{engine_parts(dev_a, net_a, log, true, &responder)},
      b{engine_parts(dev_b, net_b, log, false)};
  a.start();
  b.start();
  // 10.0.0.2 -> 10.0.0.1 echo request (see the responder tests for the bytes).
  Packet ping;
  for (unsigned byte : {0x45u, 0u, 0u,  0x1cu, 0u, 0u, 0u, 0u, 64u, 1u, 0u,    0u,    10u, 0u,
                        0u,    2u, 10u, 0u,    0u, 1u, 8u, 0u, 0u,  0u, 0x12u, 0x34u, 0u,  1u})
    ping.push_back(std::byte(byte));
  std::uint16_t c = link::checksum({ping.data(), 20});
  ping[10] = std::byte(c >> 8), ping[11] = std::byte(c & 0xff);
  c = link::checksum({ping.data() + 20, 8});
  ping[22] = std::byte(c >> 8), ping[23] = std::byte(c & 0xff);
  for (bool up : {true, false}) {
    net_a.set_up(up);
    dev_a.inject(ping);
    io.restart();
    io.poll();
  }
  ASSERT_EQ(dev_a.written().size(), 2u) << "two echo replies back to the local device";
  EXPECT_EQ(dev_a.written()[0][20], std::byte{0}) << "ICMP echo reply";
  EXPECT_TRUE(dev_b.written().empty()) << "nothing crossed the tunnel";
  EXPECT_EQ(a.stats().answered_locally, 2u);
  EXPECT_EQ(responder.stats().echo_replies, 2u);
}

TEST_F(EnginePair, PacketsLargerThanTheTunnelMtuNeverCross) {
  dev_a.inject(ipv4_packet(1500));  // the device MTU was raised behind tund's back
  dev_a.inject(ipv4_packet(100));
  run();
  ASSERT_EQ(dev_b.written().size(), 1u);
  EXPECT_EQ(dev_b.written()[0].size(), 120u);
  EXPECT_EQ(a.stats().dropped[tunnel::Drop::too_big], 1u);
}

}  // namespace
}  // namespace tund::testing
