// Two engines, each with a fake device, joined by in-memory transports: a packet read
// from one device must come out of the other, without root or sockets.
#include "tund/tunnel/engine.hpp"

#include <gtest/gtest.h>

#include "support/fake_device.hpp"
#include "support/loopback_transport.hpp"

namespace tund::testing {
namespace {

struct EnginePair : ::testing::Test {
  asio::io_context io;
  util::Logger log{util::LogLevel::error};
  FakeDevice dev_a{io, device::LinkLayer::ip}, dev_b{io, device::LinkLayer::ip};
  LoopbackTransport net_a{io, 1400}, net_b{io, 1400};
  tunnel::Engine a{dev_a, net_a, log}, b{dev_b, net_b, log};

  EnginePair() {
    LoopbackTransport::connect(net_a, net_b);
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
}

TEST_F(EnginePair, ABurstIsSentAsBatchesWithOneFlushEach) {
  for (int i = 0; i < 200; ++i) dev_a.inject(ipv4_packet(1000));
  run();
  EXPECT_EQ(dev_b.written().size(), 200u);
  // 64 packets per batch: 200 packets need 4 flushes, not 200.
  EXPECT_LE(net_a.flushes(), 5u);
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
  EXPECT_EQ(a.stats().dropped_no_peer, 2u);
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
  EXPECT_EQ(b.stats().dropped_malformed, 3u);
}

TEST_F(EnginePair, CountsFramesArrivingWhileTheInterfaceIsDown) {
  dev_b.fail_writes(std::errc::io_error);
  dev_a.inject(ipv4_packet(64));
  dev_a.inject(ipv4_packet(64));
  run();
  EXPECT_EQ(b.stats().dropped_device_down, 2u);
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

}  // namespace
}  // namespace tund::testing
