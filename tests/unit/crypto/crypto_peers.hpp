// Test fixture: a client (initiator) and a server (responder), each an Identity with one
// Session, in memory, with time passed by hand. Messages go from one side to the other
// the way the tunnel routes them: an initiation to the server's identity and then to its
// session, anything else to the session.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <variant>
#include <vector>

#include "tund/crypto/identity.hpp"
#include "tund/crypto/session.hpp"
#include "tund/proto/wire.hpp"

namespace tund::crypto::testing {

using namespace std::chrono_literals;
using Buffer = std::vector<std::byte>;

inline Buffer bytes(std::initializer_list<unsigned> values) {
  Buffer out;
  for (unsigned v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

inline Buffer frame_of(std::size_t n) {
  Buffer f(n);
  for (std::size_t i = 0; i < n; ++i) f[i] = static_cast<std::byte>(i * 13 + 1);
  return f;
}

inline Buffer as_buffer(const Verdict& v) {
  return Buffer(v.data, v.data + v.size);
}

// The server's half of a handshake: authenticate at `identity`, answer from `session`.
inline Verdict answer(Identity& identity, Session& session, Buffer init, Time now) {
  auto result = identity.consume_initiation(init, now);
  if (auto* refused = std::get_if<Verdict>(&result)) return std::move(*refused);
  return session.respond(std::move(std::get<Initiation>(result)), now);
}

inline Buffer seal(Session& from, const Buffer& frame, Time now) {
  Buffer m(proto::kTransportOverhead + frame.size());
  std::copy(frame.begin(), frame.end(), m.begin() + proto::kTransportHeaderSize);
  m.resize(from.seal(m.data(), frame.size(), now));
  return m;
}

inline Buffer initiation(Session& from, Time now) {
  Buffer m(proto::kInitiationSize);
  from.write_initiation(m.data(), now);
  return m;
}

class CryptoPeers : public ::testing::Test {
 protected:
  Key client_key{}, server_key{};
  Time now = Time{} + 1000h;
  std::unique_ptr<Identity> client_id, server_id;
  std::unique_ptr<Session> client, server;
  Buffer last_frame;

  void SetUp() override {
    init_sodium();
    client_key = random_private_key();
    server_key = random_private_key();
  }
  IdentityConfig client_identity() const { return {client_key, std::nullopt, {}, false}; }
  IdentityConfig server_identity() const {
    return {server_key, std::nullopt, {x25519_public(client_key)}, false};
  }
  SessionConfig client_session() const {
    SessionConfig c;
    c.initiator = true;
    c.peer_public = x25519_public(server_key);
    return c;
  }
  static SessionConfig server_session() {
    SessionConfig c;
    c.initiator = false;
    return c;
  }
  void make(IdentityConfig ci, SessionConfig cs, IdentityConfig si, SessionConfig ss) {
    client.reset();
    server.reset();
    client_id = std::make_unique<Identity>(std::move(ci));
    server_id = std::make_unique<Identity>(std::move(si));
    client = std::make_unique<Session>(*client_id, std::move(cs));
    server = std::make_unique<Session>(*server_id, std::move(ss));
  }
  void make() { make(client_identity(), client_session(), server_identity(), server_session()); }

  Buffer initiation() { return testing::initiation(*client, now); }
  Verdict answer(Buffer init) { return testing::answer(*server_id, *server, std::move(init), now); }
  Buffer seal(Session& from, const Buffer& frame) { return testing::seal(from, frame, now); }

  // Full handshake including the client's confirmation frame.
  void handshake() {
    Verdict r = answer(initiation());
    ASSERT_EQ(r.action, Action::reply) << r.reason;
    Buffer response = as_buffer(r);
    Verdict done = client->receive(response.data(), response.size(), now);
    ASSERT_TRUE(done.established) << done.reason;
    ASSERT_TRUE(done.send_confirmation);
    Buffer confirm = seal(*client, Buffer{});
    Verdict c = server->receive(confirm.data(), confirm.size(), now);
    ASSERT_TRUE(c.authenticated) << c.reason;
    EXPECT_EQ(c.action, Action::none);
  }
  // Opens a copy of `m`; a delivered frame is copied to last_frame (the verdict points there).
  Verdict open(Session& to, Buffer m) {
    Verdict v = to.receive(m.data(), m.size(), now);
    if (v.action == Action::deliver) {
      last_frame.assign(v.data, v.data + v.size);
      v.data = last_frame.data();
    }
    return v;
  }
};

}  // namespace tund::crypto::testing
