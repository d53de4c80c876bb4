// The engine with workers (--threads, engine_batch.cpp): a batch's seals and opens run on
// util::WorkerPool's threads, and everything a single thread guaranteed still holds —
// every frame delivered once, in order, nothing unsealed on the wire, replays and forgeries
// inside one batch refused and counted — for one thread and several, over UDP and TCP.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <tuple>

#include "support/engine_fixture.hpp"
#include "tund/crypto/keys.hpp"
#include "tund/crypto/primitives.hpp"
#include "tund/util/worker_pool.hpp"

namespace tund::testing {
namespace {

using namespace std::chrono_literals;

// (threads, datagram)
struct Workers : EngineFixture, ::testing::WithParamInterface<std::tuple<unsigned, bool>> {
  bool sodium_ready = (crypto::init_sodium(), true);
  unsigned threads = std::get<0>(GetParam());
  bool datagram = std::get<1>(GetParam());
  util::WorkerPool pool_s{threads}, pool_c{threads};
  crypto::Key client_key = crypto::random_private_key();
  crypto::Key server_key = crypto::random_private_key();
  crypto::Identity server_id{config_for(server_key, {crypto::x25519_public(client_key)})};
  crypto::Identity client_id{config_for(client_key, {})};
  FakeDevice dev_s{io, device::LinkLayer::ip}, dev_c{io, device::LinkLayer::ip};
  LoopbackBind net_s{io, datagram, false, 55555}, net_c{io, datagram, true, 40000};
  std::optional<tunnel::Engine> server, client;

  static crypto::IdentityConfig config_for(const crypto::Key& key,
                                           std::vector<crypto::Key> allowed) {
    return identity_config(key, std::move(allowed));
  }
  crypto::SessionConfig session(bool initiator) const {
    crypto::SessionConfig c;
    c.initiator = initiator;
    c.stream = !datagram;
    if (initiator) c.peer_public = crypto::x25519_public(server_key);
    return c;
  }
  void SetUp() override {
    LoopbackBind::connect(net_c, net_s);
    auto parts_s =
        engine_parts(dev_s, net_s, log, false, nullptr, &server_id, session(false), clock);
    parts_s.workers = &pool_s;
    auto parts_c = engine_parts(dev_c, net_c, log, true, nullptr, &client_id, session(true), clock);
    parts_c.workers = &pool_c;
    server.emplace(std::move(parts_s));
    client.emplace(std::move(parts_c));
    server->start();
    client->start();
    ticking = {&*server, &*client};
    pass(1s);
    ASSERT_TRUE(client->peer().up() && server->peer().up());
  }
  // Packets whose payload bytes number them, so order and content can be checked.
  static Packet numbered(std::size_t i, std::size_t size = 1380) {
    return ipv4_packet(size, static_cast<std::byte>(0x20 + i % 200));
  }
  // The client's sealed messages for `count` packets, kept from the server (the test
  // delivers them as it likes).
  std::vector<LoopbackBind::Message> sealed_from_client(std::size_t count) {
    std::vector<LoopbackBind::Message> sealed;
    net_c.set_filter([&](LoopbackBind::Message& m) {
      sealed.push_back(m);
      return false;
    });
    for (std::size_t i = 0; i < count; ++i) {
      dev_c.inject(numbered(i));
      poll();
    }
    net_c.set_filter(nullptr);
    EXPECT_EQ(sealed.size(), count);
    return sealed;
  }
};

// 200 packets read in batches of up to 64: each crosses once, in order, byte for byte,
// both ways; the client's payload never appears on the wire.
TEST_P(Workers, EveryFrameCrossesOnceInOrder) {
  const std::size_t count = 200;
  for (std::size_t i = 0; i < count; ++i) dev_c.inject(numbered(i));
  for (std::size_t i = 0; i < count; ++i) dev_s.inject(numbered(i, 1200));
  pass(1s, 50ms);
  ASSERT_EQ(dev_s.written().size(), count);
  ASSERT_EQ(dev_c.written().size(), count);
  for (std::size_t i = 0; i < count; ++i) {
    EXPECT_EQ(dev_s.written()[i], numbered(i)) << "client -> server frame " << i;
    EXPECT_EQ(dev_c.written()[i], numbered(i, 1200)) << "server -> client frame " << i;
  }
  Packet first = numbered(0);
  Packet payload(first.begin() + 28, first.begin() + 60);
  for (const auto& message : net_c.sent())
    EXPECT_EQ(std::search(message.begin(), message.end(), payload.begin(), payload.end()),
              message.end())
        << "a frame left unsealed";
  EXPECT_EQ(server->crypto_stats().auth_failed, 0u);
  // Several threads: every seal and open went through the pools (full batches are shared
  // with the helpers, small ones run on the loop's thread and are counted there).
  for (auto* pool : {&pool_s, &pool_c}) {
    if (threads == 1) break;
    auto items = pool->items_per_thread();
    EXPECT_GE(std::accumulate(items.begin(), items.end(), std::uint64_t{0}), 2 * count);
  }
}

// One read carrying a new message five times: delivered once, the rest counted as replays
// (the window takes each counter once, in arrival order, after the parallel open).
TEST_P(Workers, AReplayInsideOneBatchIsDeliveredOnce) {
  auto sealed = sealed_from_client(1);
  ASSERT_EQ(sealed.size(), 1u);
  std::size_t delivered = dev_s.written().size();
  auto replayed = server->crypto_stats().replayed;
  net_s.deliver_batch({sealed[0], sealed[0], sealed[0], sealed[0], sealed[0]});
  EXPECT_EQ(dev_s.written().size(), delivered + 1);
  EXPECT_EQ(server->crypto_stats().replayed, replayed + 4);
}

// Forty new messages in one read (enough to be shared), with a forgery and a replay
// among them: the forgery and the replay are refused and counted, the others delivered in
// their order.
TEST_P(Workers, ABatchWithAReplayAndAForgeryDeliversTheRestInOrder) {
  auto sealed = sealed_from_client(40);
  ASSERT_EQ(sealed.size(), 40u);
  std::vector<LoopbackBind::Message> batch = sealed;
  batch[3][batch[3].size() - 20] ^= std::byte{1};  // forged
  batch.insert(batch.begin() + 6, sealed[1]);      // replayed
  auto before = server->crypto_stats();
  std::size_t delivered = dev_s.written().size();
  net_s.deliver_batch(batch);
  ASSERT_EQ(dev_s.written().size(), delivered + 39);
  std::size_t at = delivered;
  for (std::size_t i = 0; i < 40; ++i) {
    if (i != 3) {
      EXPECT_EQ(dev_s.written()[at++], numbered(i)) << "frame " << i;
    }
  }
  EXPECT_EQ(server->crypto_stats().auth_failed, before.auth_failed + 1);
  EXPECT_EQ(server->crypto_stats().replayed, before.replayed + 1);
}

// A commit the transport refuses in the middle of a batch: its slot goes to the next frame,
// whose seal alone may run there (the refused frame's job is dropped), so every other
// frame arrives intact and nothing fails authentication.
TEST_P(Workers, ARefusedCommitInsideABatchCostsOnlyThatFrame) {
  net_c.refuse_commit(5);
  for (std::size_t i = 0; i < 60; ++i) dev_c.inject(numbered(i));
  pass(500ms, 50ms);
  ASSERT_EQ(dev_s.written().size(), 59u);
  std::size_t at = 0;
  for (std::size_t i = 0; i < 60; ++i)
    if (i != 4) {
      EXPECT_EQ(dev_s.written()[at++], numbered(i)) << "frame " << i;
    }
  EXPECT_EQ(server->crypto_stats().auth_failed, 0u);
  EXPECT_EQ(net_c.stats().tx_dropped, 1u);
}

INSTANTIATE_TEST_SUITE_P(ThreadsAndTransports, Workers,
                         ::testing::Combine(::testing::Values(1u, 2u, 3u), ::testing::Bool()),
                         [](const auto& param_info) {
                           return std::to_string(std::get<0>(param_info.param)) + "threads_" +
                                  (std::get<1>(param_info.param) ? "udp" : "tcp");
                         });

}  // namespace
}  // namespace tund::testing
