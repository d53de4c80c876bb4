// Hub mode in memory: one hub engine and N client engines over the loopback bind, with a
// manual clock. Routing by key (allowed-ips) both ways, the spoofing check, the per-peer
// queues, reload diffs, and the TAP learning switch.
#include <gtest/gtest.h>

#include "support/engine_fixture.hpp"
#include "tund/crypto/keys.hpp"
#include "tund/crypto/primitives.hpp"
#include "tund/util/bytes.hpp"

namespace tund::testing {
namespace {

using namespace std::chrono_literals;

Packet ipv4(std::array<std::uint8_t, 4> src, std::array<std::uint8_t, 4> dst,
            std::size_t payload = 32) {
  Packet p = ipv4_packet(payload);
  for (std::size_t i = 0; i < 4; ++i) {
    p[12 + i] = std::byte{src[i]};
    p[16 + i] = std::byte{dst[i]};
  }
  return p;
}

util::IpPrefix host(std::uint8_t last) {
  util::IpPrefix prefix;
  prefix.address[0] = std::byte{10};
  prefix.address[1] = std::byte{8};
  prefix.address[3] = std::byte{last};
  prefix.length = 32;
  return prefix;
}

// An Ethernet frame carrying an IPv4 packet, from `src` to `dst`.
Packet ethernet(std::uint8_t src, std::array<std::uint8_t, 6> dst) {
  Packet f(14, std::byte{0});
  for (std::size_t i = 0; i < 6; ++i) f[i] = std::byte{dst[i]};
  f[6] = std::byte{0x02};
  f[11] = std::byte{src};
  f[12] = std::byte{0x08};
  Packet ip = ipv4_packet(32);
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}
constexpr std::array<std::uint8_t, 6> kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
std::array<std::uint8_t, 6> mac_of(std::uint8_t n) {
  return {0x02, 0, 0, 0, 0, n};
}

struct Client {
  crypto::Key key = crypto::random_private_key();
  std::optional<FakeDevice> device;
  std::optional<LoopbackBind> bind;
  std::optional<crypto::Identity> identity;
  std::optional<tunnel::Engine> engine;
};

struct HubEngine : EngineFixture {
  bool sodium_ready = (crypto::init_sodium(), true);
  static constexpr std::size_t kClients = 3;
  crypto::Key hub_key = crypto::random_private_key();
  std::optional<crypto::Identity> hub_id;
  std::optional<FakeDevice> hub_dev;
  LoopbackBind hub_net{io, true, false, 51820};
  std::optional<tunnel::Engine> hub;
  std::array<Client, kClients> clients;

  tunnel::HubPeerSpec spec(std::size_t i) const {
    tunnel::HubPeerSpec s;
    s.name = "c" + std::to_string(i);
    s.public_key = crypto::x25519_public(clients[i].key);
    s.allowed_ips = {host(static_cast<std::uint8_t>(2 + i))};
    return s;
  }
  void build(device::LinkLayer link = device::LinkLayer::ip) {
    std::vector<tunnel::HubPeerSpec> specs;
    crypto::IdentityConfig ic;
    ic.private_key = hub_key;
    for (std::size_t i = 0; i < kClients; ++i) {
      specs.push_back(spec(i));
      ic.allowed.push_back(specs.back().public_key);
    }
    hub_id.emplace(ic);
    hub_dev.emplace(io, link);
    crypto::SessionConfig responder;
    responder.initiator = false;
    auto parts = engine_parts(*hub_dev, hub_net, log, false, nullptr, &*hub_id, responder, clock);
    parts.hub = std::move(specs);
    hub.emplace(std::move(parts));
    hub->start();
    ticking.push_back(&*hub);
    for (std::size_t i = 0; i < kClients; ++i) start_client(i, link);
    pass(1s);
  }
  void start_client(std::size_t i, device::LinkLayer link) {
    Client& c = clients[i];
    c.device.emplace(io, link);
    c.bind.emplace(io, true, true, static_cast<std::uint16_t>(40000 + i));
    LoopbackBind::attach(*c.bind, hub_net);
    crypto::IdentityConfig ic;
    ic.private_key = c.key;
    c.identity.emplace(ic);
    crypto::SessionConfig initiator;
    initiator.peer_public = crypto::x25519_public(hub_key);
    c.engine.emplace(
        engine_parts(*c.device, *c.bind, log, true, nullptr, &*c.identity, initiator, clock));
    c.engine->start();
    ticking.push_back(&*c.engine);
  }
  const tunnel::Peer& peer(std::size_t i) const { return *hub->peers().at(i); }
  bool all_up() const {
    for (std::size_t i = 0; i < kClients; ++i)
      if (!peer(i).up() || !clients[i].engine->peer().up()) return false;
    return true;
  }
  std::size_t received(std::size_t i) const { return clients[i].device->written().size(); }
};

TEST_F(HubEngine, EveryClientGetsItsOwnSession) {
  build();
  ASSERT_TRUE(all_up());
  for (std::size_t i = 0; i < kClients; ++i) {
    EXPECT_EQ(peer(i).configured_name(), "c" + std::to_string(i));
    EXPECT_EQ(peer(i).endpoint()->port, 40000 + i);
  }
  EXPECT_EQ(hub->crypto_stats().handshakes_completed, kClients);
}

TEST_F(HubEngine, ADevicePacketGoesToThePeerWhoseAllowedIpsHoldItsDestination) {
  build();
  ASSERT_TRUE(all_up());
  hub_dev->inject(ipv4({10, 8, 0, 1}, {10, 8, 0, 3}));
  pass(250ms);
  EXPECT_EQ(received(0), 0u);
  EXPECT_EQ(received(1), 1u);
  EXPECT_EQ(received(2), 0u);
  hub_dev->inject(ipv4({10, 8, 0, 1}, {10, 9, 9, 9}));  // nobody's
  pass(250ms);
  EXPECT_EQ(received(0) + received(1) + received(2), 1u);
  EXPECT_EQ(hub->stats().dropped[tunnel::Drop::no_peer], 1u);
}

TEST_F(HubEngine, APacketFromOutsideTheSendersAllowedIpsIsDroppedAsSpoofed) {
  build();
  ASSERT_TRUE(all_up());
  clients[0].device->inject(ipv4({10, 8, 0, 2}, {10, 8, 0, 1}));  // its own address
  clients[0].device->inject(ipv4({10, 8, 0, 3}, {10, 8, 0, 1}));  // client 1's
  clients[0].device->inject(ipv4({10, 7, 0, 1}, {10, 8, 0, 1}));  // nobody's
  pass(250ms);
  EXPECT_EQ(hub_dev->written().size(), 1u);
  EXPECT_EQ(peer(0).stats().spoofed, 2u);
  EXPECT_EQ(peer(1).stats().spoofed, 0u);
  EXPECT_EQ(hub->stats().dropped[tunnel::Drop::spoofed], 2u);
}

TEST_F(HubEngine, AStalledEndpointQueuesThenDropsOnlyPastItsBound) {
  build();
  ASSERT_TRUE(all_up());
  hub_net.set_writable(false);
  for (std::size_t i = 0; i < proto::kPeerQueuePackets + 5; ++i)
    hub_dev->inject(ipv4({10, 8, 0, 1}, {10, 8, 0, 2}));
  poll();
  EXPECT_EQ(peer(0).stats().queue_dropped, 5u);
  EXPECT_EQ(peer(0).queue_size(), proto::kPeerQueuePackets);
  EXPECT_EQ(received(0), 0u);
  hub_net.set_writable(true);
  poll();
  EXPECT_EQ(received(0), proto::kPeerQueuePackets);
  EXPECT_EQ(peer(0).queue_size(), 0u);
}

// A flush that makes room sends no writable event: the queue must go out anyway.
TEST_F(HubEngine, QueuedFramesGoOutWhenAFlushMadeRoom) {
  build();
  ASSERT_TRUE(all_up());
  hub_net.set_high_water(4);  // not writable after 4 commits, until a flush
  for (int i = 0; i < 10; ++i) hub_dev->inject(ipv4({10, 8, 0, 1}, {10, 8, 0, 2}));
  poll();
  EXPECT_EQ(received(0), 10u);
  EXPECT_EQ(peer(0).queue_size(), 0u);
  EXPECT_EQ(peer(0).stats().queue_dropped, 0u);
}

TEST_F(HubEngine, AClientsIpv6LinkLocalTrafficIsCountedNotTakenForSpoofing) {
  build();
  ASSERT_TRUE(all_up());
  Packet rs(48, std::byte{0});  // a router solicitation, fe80::1 -> ff02::2
  rs[0] = std::byte{0x60};
  rs[5] = std::byte{8};
  rs[6] = std::byte{58};
  rs[8] = std::byte{0xfe};
  rs[9] = std::byte{0x80};
  rs[23] = std::byte{1};
  rs[24] = std::byte{0xff};
  rs[25] = std::byte{0x02};
  rs[39] = std::byte{2};
  clients[0].device->inject(rs);
  pass(250ms);
  EXPECT_EQ(hub->stats().dropped[tunnel::Drop::link_local], 1u);
  EXPECT_EQ(peer(0).stats().spoofed, 0u);
  EXPECT_EQ(hub_dev->written().size(), 0u);
}

TEST_F(HubEngine, AReloadAddsRemovesAndChangesPeersByKeyAndLeavesTheRestAlone) {
  build();
  ASSERT_TRUE(all_up());
  std::vector<tunnel::HubPeerSpec> next{spec(0), spec(1)};  // c2 removed
  next[1].allowed_ips.push_back(host(20));                  // c1 changed
  next[0].name = "renamed";
  auto changes = hub->set_hub_peers(next);
  EXPECT_EQ(changes.removed, std::vector<std::string>{"c2"});
  EXPECT_EQ(changes.changed, (std::vector<std::string>{"renamed", "c1"}));
  ASSERT_EQ(hub->peers().size(), 2u);
  EXPECT_TRUE(peer(0).up());
  EXPECT_TRUE(peer(1).up());
  hub_dev->inject(ipv4({10, 8, 0, 1}, {10, 8, 0, 20}));  // c1's new prefix
  hub_dev->inject(ipv4({10, 8, 0, 1}, {10, 8, 0, 4}));   // the removed c2's
  pass(250ms);
  EXPECT_EQ(received(1), 1u);
  EXPECT_EQ(received(2), 0u);
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_EQ(peer(i).session()->stats().handshakes_completed, 1u) << "kept its session";
  // The removed client's handshakes are refused from now on.
  pass(20s);
  EXPECT_FALSE(clients[2].engine->peer().up());
  EXPECT_TRUE(clients[0].engine->peer().up());
}

TEST_F(HubEngine, TapFloodsBroadcastsAndSendsLearnedUnicastToOnePort) {
  build(device::LinkLayer::ethernet);
  ASSERT_TRUE(all_up());
  clients[0].device->inject(ethernet(1, kBroadcast));  // MAC 1 lives behind c0
  pass(250ms);
  EXPECT_EQ(hub_dev->written().size(), 1u);
  EXPECT_EQ(received(1), 1u);
  EXPECT_EQ(received(2), 1u);
  EXPECT_EQ(received(0), 0u) << "never back to where it came from";
  hub_dev->inject(ethernet(9, mac_of(1)));            // to MAC 1: c0 only
  clients[2].device->inject(ethernet(3, mac_of(1)));  // c2 to MAC 1: switched to c0
  pass(250ms);
  EXPECT_EQ(received(0), 2u);
  EXPECT_EQ(received(1), 1u);
  EXPECT_EQ(received(2), 1u);
}

// A MAC that shows up behind another peer moves there (counted), and frames to it follow.
TEST_F(HubEngine, TapAMacMovesToItsNewestSender) {
  build(device::LinkLayer::ethernet);
  ASSERT_TRUE(all_up());
  clients[0].device->inject(ethernet(1, kBroadcast));
  pass(250ms);
  clients[2].device->inject(ethernet(1, kBroadcast));  // MAC 1 is now behind c2
  pass(250ms);
  EXPECT_EQ(hub->stats().mac_moves, 1u);
  EXPECT_EQ(hub->macs_learned(), 1u);
  auto before0 = received(0), before2 = received(2);
  hub_dev->inject(ethernet(9, mac_of(1)));
  pass(250ms);
  EXPECT_EQ(received(0), before0);
  EXPECT_EQ(received(2), before2 + 1);
}

}  // namespace
}  // namespace tund::testing
