// The engine's reactions to what happens to its device: deleted (failure handler once, no
// more reads), failing reads that do not mean "gone" (retried after a pause, no spin), an
// MTU raised on the live device, a rename, addresses for the responder; and received
// frames above our MTU (delivered, logged once).
#include <gtest/gtest.h>

#include <thread>

#include "support/engine_harness.hpp"
#include "support/fake_device.hpp"
#include "tund/link/checksum.hpp"
#include "tund/proto/wire.hpp"
#include "tund/tunnel/engine.hpp"

namespace tund::testing {
namespace {

struct EngineDevice : ::testing::Test {
  asio::io_context io;
  std::vector<std::string> lines;
  util::Logger log{util::LogLevel::info,
                   [this](util::LogLevel, std::string_view text) { lines.emplace_back(text); }};
  FakeDevice dev_a{io, device::LinkLayer::ip}, dev_b{io, device::LinkLayer::ip};
  LoopbackBind net_a{io, false, true, 1}, net_b{io, false, false, 2};
  tunnel::Engine a{engine_parts(dev_a, net_a, log, true)},
      b{engine_parts(dev_b, net_b, log, false)};
  std::vector<std::string> failures;

  EngineDevice() {
    LoopbackBind::connect(net_a, net_b);
    a.set_failure_handler([this](const std::string& why) { failures.push_back(why); });
    a.start();
    b.start();
  }
  void run() {
    io.restart();
    io.poll();
  }
  std::size_t lines_with(const std::string& text) const {
    return static_cast<std::size_t>(std::count_if(
        lines.begin(), lines.end(), [&](auto& l) { return l.find(text) != std::string::npos; }));
  }
};

TEST_F(EngineDevice, ADeletedDeviceFailsTheEngineOnce) {
  EXPECT_TRUE(a.healthy());
  dev_a.remove();
  dev_a.remove();
  run();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("fake0"), std::string::npos) << failures[0];
  EXPECT_FALSE(a.healthy());
  EXPECT_TRUE(dev_a.closed());
  std::size_t reads = dev_a.read_calls();
  dev_a.inject(ipv4_packet(64));
  run();
  EXPECT_EQ(dev_a.read_calls(), reads) << "nothing is read after the failure";
  EXPECT_TRUE(dev_b.written().empty());
}

TEST_F(EngineDevice, AGoneErrorOnReadFailsTheEngineWithoutSpinning) {
  dev_a.fail_reads(std::error_code(EBADFD, std::generic_category()));
  run();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("gone"), std::string::npos) << failures[0];
  EXPECT_LE(dev_a.read_calls(), 1u);
}

TEST_F(EngineDevice, AGoneErrorOnWriteFailsTheEngine) {
  dev_a.fail_writes(std::errc::no_such_device);
  dev_b.inject(ipv4_packet(64));
  run();
  EXPECT_EQ(failures.size(), 1u);
}

TEST_F(EngineDevice, EioOnWriteIsADownPeriodUnlessTheDeviceVanished) {
  dev_a.fail_writes(std::errc::io_error);
  dev_b.inject(ipv4_packet(64));
  run();
  EXPECT_TRUE(failures.empty());
  EXPECT_EQ(a.stats().dropped[tunnel::Drop::device_down], 1u);
  dev_a.fail_writes(std::nullopt);
  dev_b.inject(ipv4_packet(64));
  run();  // up again: the next EIO starts a new down period and checks the device exists
  dev_a.fail_writes(std::errc::io_error);
  dev_a.set_exists(false);
  dev_b.inject(ipv4_packet(64));
  run();
  EXPECT_EQ(failures.size(), 1u);
}

TEST_F(EngineDevice, OtherReadErrorsAreRetriedAfterAPauseNotInALoop) {
  dev_a.fail_reads(std::error_code(EIO, std::generic_category()));
  run();
  run();
  EXPECT_TRUE(failures.empty()) << "the device still exists";
  EXPECT_EQ(dev_a.read_calls(), 1u) << "no read again before the pause is over";
  EXPECT_EQ(dev_a.pauses(), 1u);
  EXPECT_EQ(a.stats().device_read_errors, 1u);
  dev_a.fail_reads(std::nullopt);
  dev_a.inject(ipv4_packet(64));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  run();
  run();
  EXPECT_EQ(dev_b.written().size(), 1u) << "reading resumed after the pause";
}

TEST_F(EngineDevice, AReadErrorOnAVanishedDeviceIsGone) {
  dev_a.set_exists(false);
  dev_a.fail_reads(std::error_code(EIO, std::generic_category()));
  run();
  EXPECT_EQ(failures.size(), 1u);
}

TEST_F(EngineDevice, AnMtuRaisedOnTheLiveDeviceBecomesTheTunnelMtu) {
  dev_a.inject(ipv4_packet(1480));
  run();
  EXPECT_EQ(a.stats().dropped[tunnel::Drop::too_big], 1u);
  EXPECT_EQ(lines_with("1500-byte packet from device fake0"), 1u) << "never dropped in silence";
  dev_a.change_mtu(1500);
  EXPECT_EQ(a.tunnel_mtu(), 1500u);
  EXPECT_EQ(lines_with("device fake0 MTU changed from 1400 to 1500; the tunnel now carries up "
                       "to 1500"),
            1u);
  dev_a.inject(ipv4_packet(1480));
  run();
  ASSERT_EQ(dev_b.written().size(), 1u);
  EXPECT_EQ(dev_b.written()[0].size(), 1500u);
}

// A device MTU beyond what the wire format carries (65535 on a persistent device, say) is
// used only up to proto::kMaxTunnelMtu: a larger packet is never framed (it overflowed a
// GSO run and the encrypted TCP length prefix).
TEST_F(EngineDevice, AnMtuBeyondTheWireFormatIsCapped) {
  dev_a.change_mtu(65535);
  EXPECT_EQ(a.tunnel_mtu(), proto::kMaxTunnelMtu);
  EXPECT_EQ(lines_with("MTU 65535 is above the largest packet the tunnel can carry (65457)"), 1u);
  dev_a.inject(ipv4_packet(65000));
  dev_a.inject(ipv4_packet(65480));
  run();
  ASSERT_EQ(dev_b.written().size(), 1u);
  EXPECT_EQ(dev_b.written()[0].size(), 65020u);
  EXPECT_EQ(a.stats().dropped[tunnel::Drop::too_big], 1u);
}

TEST_F(EngineDevice, FramesAboveOurMtuAreDeliveredAndLoggedOnce) {
  net_a.deliver(ipv4_packet(1480));  // the peer's MTU is 1500
  net_a.deliver(ipv4_packet(1480));
  net_a.deliver(ipv4_packet(1000));
  run();
  EXPECT_EQ(dev_a.written().size(), 3u);
  EXPECT_EQ(a.stats().received_above_mtu, 2u);
  EXPECT_EQ(a.stats().largest_received, 1500u);
  EXPECT_EQ(lines_with("peer sends packets up to 1500 bytes, above this tunnel's MTU 1400: set "
                       "the same --mtu on both sides"),
            1u);
  EXPECT_EQ(a.stats().dropped[tunnel::Drop::malformed], 0u);
}

TEST_F(EngineDevice, ARenameIsLoggedAndFollowed) {
  dev_a.rename("tunz");
  EXPECT_EQ(lines_with("device fake0 renamed to tunz"), 1u);
  dev_a.remove();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("tunz"), std::string::npos) << "the current name: " << failures[0];
}

TEST(EngineResponderSubnets, NoUnreachableForTheDirectedBroadcastOfADeviceAddress) {
  asio::io_context io;
  util::Logger log{util::LogLevel::error};
  FakeDevice dev{io, device::LinkLayer::ip};
  // A client whose path is down: no peer is up.
  LoopbackBind net{io, true, true, 1}, server_side{io, true, false, 2};
  LoopbackBind::connect(net, server_side);
  link::ResponderConfig rc;
  link::Responder responder(rc);
  tunnel::Engine engine{engine_parts(dev, net, log, true, &responder)};
  engine.start();
  net.set_up(false);
  dev.set_addresses({{{10, 9, 0, 1}, 24}});
  for (unsigned last : {255u, 7u}) {  // broadcast, then unicast
    Packet p = ipv4_packet(40);
    p[6] = p[7] = std::byte{0};  // not a fragment
    p[8] = std::byte{64}, p[9] = std::byte{17};
    for (int i : {12, 13, 14, 15, 16, 17, 18, 19}) p[static_cast<std::size_t>(i)] = std::byte{0};
    p[12] = p[16] = std::byte{10}, p[13] = p[17] = std::byte{9};
    p[15] = std::byte{2}, p[19] = static_cast<std::byte>(last);
    p[10] = p[11] = std::byte{0};
    std::uint16_t c = link::checksum({p.data(), 20});
    p[10] = std::byte(c >> 8), p[11] = std::byte(c & 0xff);
    dev.inject(p);
    io.restart();
    io.poll();
  }
  EXPECT_EQ(dev.written().size(), 1u) << "one unreachable: for 10.9.0.7, none for 10.9.0.255";
  EXPECT_EQ(responder.stats().errors_withheld, 1u);
}

}  // namespace
}  // namespace tund::testing
