// Builds engines for tests: a fake device and an in-memory pipe, no root, no sockets.
#pragma once

#include "support/fake_device.hpp"
#include "support/loopback_bind.hpp"
#include "tund/tunnel/engine.hpp"

namespace tund::testing {

// Never waits in tests: probes follow each other as fast as ticks come.
inline util::Backoff no_backoff() {
  return util::Backoff(std::chrono::milliseconds(0), std::chrono::milliseconds(0),
                       [] { return 0.0; });
}

// One side of a tunnel: `client` reaches out; encrypted when `session` is set (then
// `identity` is this side's). No timer: tests call on_timer() themselves.
// An identity with `key`, allowing `allowed` clients (a server) or none (a client).
inline crypto::IdentityConfig identity_config(const crypto::Key& key,
                                              std::vector<crypto::Key> allowed) {
  crypto::IdentityConfig c;
  c.private_key = key;
  c.allowed = std::move(allowed);
  return c;
}

inline tunnel::EngineParts engine_parts(FakeDevice& device, LoopbackBind& bind, util::Logger& log,
                                        bool client, link::Responder* responder = nullptr,
                                        crypto::Identity* identity = nullptr,
                                        std::optional<crypto::SessionConfig> session = {},
                                        const util::Clock& clock = util::steady_clock()) {
  tunnel::PeerConfig peer;
  peer.initiator = client;
  peer.name = "server.test:55555";
  peer.session = std::move(session);
  return {.device = device,
          .transport = bind,
          .log = log,
          .responder = responder,
          .identity = identity,
          .peer = std::move(peer),
          .hub = std::nullopt,
          .probe_backoff = no_backoff(),
          .clock = clock};
}

}  // namespace tund::testing
