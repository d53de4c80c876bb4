// The swarm's wiring without sockets: what the tunnel writes to a swarm client's device
// is answered by the responder and read back by the engine; the client's own pings and
// their replies; the bounded queue; the key files `run` reads back.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "swarm/swarm_device.hpp"
#include "swarm/swarm_keys.hpp"
#include "tund/crypto/keys.hpp"
#include "tund/link/checksum.hpp"

namespace tund::swarm {
namespace {

using Bytes = std::vector<std::byte>;
constexpr link::Ipv4 kClient{10, 77, 0, 2};
constexpr link::Ipv4 kServer{10, 77, 0, 1};

SwarmDeviceConfig tun_config() {
  return {.name = "c1",
          .ethernet = false,
          .address = kClient,
          .prefix_len = 24,
          .mtu = 1400,
          .echo_id = 7};
}

// What the engine would do: wait until readable, then read one frame.
std::optional<Bytes> engine_reads(asio::io_context& io, SwarmDevice& dev) {
  bool woken = false;
  dev.async_wait_readable([&](std::error_code) { woken = true; });
  io.restart();
  io.poll();
  if (!woken) return std::nullopt;
  Bytes buffer(2048);
  std::error_code ec;
  std::size_t n = dev.read_packet(buffer, ec);
  if (ec) return std::nullopt;
  buffer.resize(n);
  return buffer;
}

link::Ipv4 ipv4_at(const Bytes& p, std::size_t offset) {
  return {std::to_integer<std::uint8_t>(p[offset]), std::to_integer<std::uint8_t>(p[offset + 1]),
          std::to_integer<std::uint8_t>(p[offset + 2]),
          std::to_integer<std::uint8_t>(p[offset + 3])};
}

TEST(SwarmDevice, ThePeersPingIsAnsweredByTheResponderAndReadBackByTheEngine) {
  asio::io_context io;
  SwarmDevice dev(io, tun_config());
  Pinger server(kServer, 99);  // the hub's kernel pinging the client's tunnel address
  std::error_code ec;
  dev.write_packet(server.request(kClient, Pinger::Clock::now()), ec);
  ASSERT_FALSE(ec);
  auto reply = engine_reads(io, dev);
  ASSERT_TRUE(reply);
  EXPECT_EQ(ipv4_at(*reply, 12), kClient);
  EXPECT_EQ(ipv4_at(*reply, 16), kServer);
  EXPECT_EQ(link::checksum({reply->data(), 20}), 0);            // a valid IPv4 header
  EXPECT_TRUE(server.on_packet(*reply, Pinger::Clock::now()));  // the server's ping matched
  EXPECT_EQ(server.stats().replies, 1u);
  EXPECT_EQ(dev.stats().answered, 1u);
  EXPECT_EQ(dev.stats().read_by_engine, 1u);
}

TEST(SwarmDevice, APacketForAnotherAddressIsNotAnswered) {
  asio::io_context io;
  SwarmDevice dev(io, tun_config());
  Pinger server(kServer, 99);
  std::error_code ec;
  dev.write_packet(server.request({10, 77, 0, 3}, Pinger::Clock::now()), ec);
  EXPECT_FALSE(engine_reads(io, dev));
  EXPECT_EQ(dev.stats().not_answered, 1u);
  EXPECT_EQ(dev.stats().answered, 0u);
}

// The client's own ping goes out through the engine; the hub's answer (here the
// responder of a device playing the hub) comes back through the tunnel and is matched.
TEST(SwarmDevice, ItsOwnPingIsSentAndTheReplyCounted) {
  asio::io_context io;
  SwarmDevice dev(io, tun_config());
  SwarmDevice hub(io, {.name = "hub", .address = kServer, .prefix_len = 24});
  ASSERT_TRUE(dev.send_ping(kServer));
  auto request = engine_reads(io, dev);
  ASSERT_TRUE(request);
  std::error_code ec;
  hub.write_packet(*request, ec);
  auto reply = engine_reads(io, hub);
  ASSERT_TRUE(reply);
  dev.write_packet(*reply, ec);
  EXPECT_EQ(dev.ping_stats().sent, 1u);
  EXPECT_EQ(dev.ping_stats().replies, 1u);
  EXPECT_EQ(dev.stats().answered, 0u);  // a reply to us is not for the responder
  dev.write_packet(*reply, ec);         // a duplicate is ours but not counted again
  EXPECT_EQ(dev.ping_stats().replies, 1u);
}

TEST(SwarmDevice, TheQueueIsBoundedAndDropsAreCounted) {
  asio::io_context io;
  SwarmDevice dev(io, tun_config());
  for (std::size_t i = 0; i < SwarmDevice::kMaxQueued; ++i) ASSERT_TRUE(dev.send_ping(kServer));
  EXPECT_FALSE(dev.send_ping(kServer));
  EXPECT_EQ(dev.stats().queue_drops, 1u);
  dev.close();
  EXPECT_FALSE(dev.send_ping(kServer));
  std::error_code ec;
  Bytes buffer(2048);
  EXPECT_EQ(dev.read_packet(buffer, ec), 0u);
  EXPECT_TRUE(ec);
}

TEST(SwarmDevice, TapAnswersArpForItsAddress) {
  asio::io_context io;
  SwarmDeviceConfig config = tun_config();
  config.ethernet = true;
  SwarmDevice dev(io, config);
  EXPECT_EQ(dev.link_layer(), device::LinkLayer::ethernet);
  Bytes arp(42, std::byte{0});
  for (int i = 0; i < 6; ++i) arp[static_cast<std::size_t>(i)] = std::byte{0xff};
  const std::uint8_t head[] = {0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1};  // ethertype, who-has
  for (std::size_t i = 0; i < sizeof head; ++i) arp[12 + i] = std::byte{head[i]};
  arp[6] = arp[22] = std::byte{0x02};  // the asker's MAC 02:00:00:00:00:01
  arp[11] = arp[27] = std::byte{0x01};
  for (std::size_t i = 0; i < 4; ++i) {
    arp[28 + i] = std::byte{kServer[i]};
    arp[38 + i] = std::byte{kClient[i]};
  }
  std::error_code ec;
  dev.write_packet(arp, ec);
  auto reply = engine_reads(io, dev);
  ASSERT_TRUE(reply);
  EXPECT_EQ(util::load_be16(reply->data() + 12), 0x0806);
  EXPECT_EQ(util::load_be16(reply->data() + 20), 2);  // is-at
  EXPECT_EQ(ipv4_at(*reply, 28), kClient);
  EXPECT_FALSE(dev.send_ping(kServer));  // no pings on TAP
}

TEST(SwarmKeys, WritesKeysPeerFilesAndAListThatReadsBack) {
  crypto::init_sodium();
  auto dir = std::filesystem::temp_directory_path() / ("swarm_test." + std::to_string(::getpid()));
  write_swarm_keys(dir.string(), 3, parse_ipv4_net("10.9.0.77/24", "--net"), "/etc/x.psk");
  auto clients = read_client_list(dir.string());
  ASSERT_EQ(clients.size(), 3u);
  EXPECT_EQ(clients[0].name, "c1");
  EXPECT_EQ(clients[2].address, (link::Ipv4{10, 9, 0, 4}));
  EXPECT_EQ(clients[2].prefix_len, 24u);
  struct stat st {};
  ASSERT_EQ(::stat(clients[1].key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  crypto::Key key = crypto::read_secret_key_file(clients[1].key_file);
  std::ifstream peer(dir / "peers" / "c2");
  std::string text((std::istreambuf_iterator<char>(peer)), {});
  EXPECT_EQ(text, "public-key = " + crypto::to_base64(crypto::x25519_public(key)) +
                      "\nallowed-ips = 10.9.0.3/32\npsk = /etc/x.psk\n");
  std::filesystem::remove_all(dir);
}

TEST(SwarmKeys, ANetTooSmallIsRefusedBeforeAnythingIsWritten) {
  auto net = parse_ipv4_net("10.9.0.0/30", "--net");  // hosts 1 and 2; 3 is broadcast
  EXPECT_NO_THROW(host_address(net, 2));
  EXPECT_THROW(host_address(net, 3), std::runtime_error);
  auto dir = std::filesystem::temp_directory_path() / ("swarm_small." + std::to_string(::getpid()));
  EXPECT_THROW(write_swarm_keys(dir.string(), 2, net, std::nullopt), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(dir / "clients.list"));
  std::filesystem::remove_all(dir);
  EXPECT_THROW(parse_ipv4_net("10.9.0.0/33", "--net"), std::runtime_error);
  EXPECT_THROW(parse_ipv4_net("10.9.0/24", "--net"), std::runtime_error);
}

}  // namespace
}  // namespace tund::swarm
