// The encrypted protocol core on both sides, with a live session established first, so
// forged transport messages reach the session lookup, replay window and AEAD paths, and
// forged handshakes reach the Noise parser. Each input goes the way the tunnel routes it:
// classify(), then an initiation to the responder's Identity (and, if it authenticates,
// to its Session), anything else to a Session. Nothing unauthenticated may be delivered.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <variant>
#include <vector>

#include "tund/crypto/identity.hpp"
#include "tund/crypto/session.hpp"
#include "tund/proto/wire.hpp"

using namespace tund::crypto;

namespace {

struct Pair {
  std::unique_ptr<Identity> client_id, server_id;
  std::unique_ptr<Session> client, server;
  Time now = Time{} + std::chrono::hours(1);
  Pair() {
    init_sodium();
    Key ck{}, sk{};
    ck[0] = std::byte{1};
    sk[0] = std::byte{2};
    client_id = std::make_unique<Identity>(IdentityConfig{ck, std::nullopt, {}, false});
    server_id =
        std::make_unique<Identity>(IdentityConfig{sk, std::nullopt, {x25519_public(ck)}, false});
    SessionConfig c, s;
    c.peer_public = x25519_public(sk);
    s.initiator = false;
    client = std::make_unique<Session>(*client_id, c);
    server = std::make_unique<Session>(*server_id, s);
    std::vector<std::byte> init(tund::proto::kInitiationSize);
    client->write_initiation(init.data(), now);
    Verdict r = to_server(init.data(), init.size());
    std::vector<std::byte> response(r.data, r.data + r.size);
    client->receive(response.data(), response.size(), now);
  }
  Verdict to_server(std::byte* m, std::size_t size) {
    if (classify({m, size}).kind != MessageKind::initiation) return server->receive(m, size, now);
    auto result = server_id->consume_initiation({m, size}, now);
    if (auto* refused = std::get_if<Verdict>(&result)) return std::move(*refused);
    return server->respond(std::move(std::get<Initiation>(result)), now);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Pair pair;
  if (size == 0) return 0;
  std::vector<std::byte> copy(size);
  for (int side = 0; side < 2; ++side) {
    std::memcpy(copy.data(), data, size);
    Verdict v = side == 0 ? pair.to_server(copy.data(), copy.size())
                          : pair.client->receive(copy.data(), copy.size(), pair.now);
    if (v.action == Action::deliver && !v.authenticated) std::abort();
  }
  return 0;
}
