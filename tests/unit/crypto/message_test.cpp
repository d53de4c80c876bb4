// classify(): every message kind and every malformed shape, with today's reasons.
#include "tund/crypto/message.hpp"

#include <gtest/gtest.h>

#include "crypto_peers.hpp"

namespace tund::crypto::testing {
namespace {

Buffer message(proto::MessageType type, std::size_t size) {
  Buffer m(size, std::byte{0x5a});
  if (size > 0) m[0] = static_cast<std::byte>(type);
  for (std::size_t i = 1; i < 4 && i < size; ++i) m[i] = std::byte{0};
  return m;
}

constexpr const char* kUnencrypted = "unencrypted message refused (is encryption off on the peer?)";

TEST(Classify, WellFormedKindsAndTheirReceiverIndex) {
  Buffer init = message(proto::MessageType::handshake_initiation, proto::kInitiationSize);
  MessageShape s = classify(init);
  EXPECT_EQ(s.kind, MessageKind::initiation);
  EXPECT_EQ(s.named, MessageKind::initiation);
  EXPECT_EQ(s.reason, nullptr);

  Buffer response = message(proto::MessageType::handshake_response, proto::kResponseSize);
  util::store_be32(response.data() + 4, 0x11111111);  // the sender's index
  util::store_be32(response.data() + 8, 0xa1b2c3d4);  // ours
  s = classify(response);
  EXPECT_EQ(s.kind, MessageKind::response);
  EXPECT_EQ(s.receiver_index, 0xa1b2c3d4u);

  for (std::size_t size : {proto::kTransportOverhead, std::size_t{1500}}) {
    Buffer transport = message(proto::MessageType::transport, size);
    util::store_be32(transport.data() + 4, 0x01020304);
    s = classify(transport);
    EXPECT_EQ(s.kind, MessageKind::transport) << size;
    EXPECT_EQ(s.receiver_index, 0x01020304u);
  }
}

TEST(Classify, WrongSizesNameTheKindTheTypeByteClaims) {
  struct Case {
    proto::MessageType type;
    std::size_t size;
    MessageKind named;
    const char* reason;
  };
  for (Case c : {Case{proto::MessageType::handshake_initiation, proto::kInitiationSize - 1,
                      MessageKind::initiation, "initiation of wrong size"},
                 Case{proto::MessageType::handshake_initiation, proto::kInitiationSize + 1,
                      MessageKind::initiation, "initiation of wrong size"},
                 Case{proto::MessageType::handshake_initiation, 4, MessageKind::initiation,
                      "initiation of wrong size"},
                 Case{proto::MessageType::handshake_response, proto::kResponseSize - 1,
                      MessageKind::response, "response of wrong size"},
                 Case{proto::MessageType::handshake_response, proto::kResponseSize + 1,
                      MessageKind::response, "response of wrong size"},
                 Case{proto::MessageType::transport, proto::kTransportOverhead - 1,
                      MessageKind::transport, "transport message too short"},
                 Case{proto::MessageType::transport, 4, MessageKind::transport,
                      "transport message too short"}}) {
    MessageShape s = classify(message(c.type, c.size));
    EXPECT_EQ(s.kind, MessageKind::malformed) << c.size;
    EXPECT_EQ(s.named, c.named) << c.size;
    ASSERT_NE(s.reason, nullptr);
    EXPECT_STREQ(s.reason, c.reason);
  }
}

TEST(Classify, PlaintextAndRawIpAreCalledUnencrypted) {
  for (Buffer m : {message(proto::MessageType::data, 40), message(proto::MessageType::keepalive, 4),
                   bytes({0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 1}), bytes({0x60, 0, 0, 0}),
                   bytes({0x45}), bytes({0x6f, 1, 2, 3})}) {
    MessageShape s = classify(m);
    EXPECT_EQ(s.kind, MessageKind::malformed);
    EXPECT_EQ(s.named, MessageKind::malformed);
    EXPECT_STREQ(s.reason, kUnencrypted);
  }
}

TEST(Classify, ShortHeadersAndReservedBytesAreMalformed) {
  for (Buffer m : {Buffer{}, bytes({3}), bytes({5, 0, 0}), bytes({3, 1, 0, 0}),
                   bytes({5, 0, 0, 1, 0, 0, 0, 0}), bytes({4, 0, 0x80, 0})}) {
    MessageShape s = classify(m);
    EXPECT_EQ(s.kind, MessageKind::malformed);
    EXPECT_STREQ(s.reason, "malformed encrypted message") << m.size();
  }
}

TEST(Classify, UnknownTypesSaySo) {
  for (unsigned type : {0u, 6u, 7u, 0x0fu, 0x30u, 0xffu}) {
    Buffer m = bytes({type, 0, 0, 0, 1, 2, 3, 4});
    MessageShape s = classify(m);
    EXPECT_EQ(s.kind, MessageKind::malformed);
    EXPECT_STREQ(s.reason, "unknown message type (not a tund peer?)") << type;
  }
}

TEST(Drop, CountsAndCarriesTheReason) {
  std::uint64_t counter = 4;
  Verdict v = drop(counter, "why");
  EXPECT_EQ(counter, 5u);
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_EQ(v.reason, "why");
  EXPECT_FALSE(v.authenticated);
}

}  // namespace
}  // namespace tund::crypto::testing
