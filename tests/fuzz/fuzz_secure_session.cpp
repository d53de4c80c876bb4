// The encrypted protocol core on both sides, with a live session established first, so
// forged transport messages reach the session lookup, replay window and AEAD paths, and
// forged handshakes reach the Noise parser. Nothing unauthenticated may be delivered.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "tund/crypto/secure_session.hpp"
#include "tund/proto/wire.hpp"

using namespace tund::crypto;

namespace {

struct Pair {
  std::unique_ptr<SecureSession> client, server;
  Time now = Time{} + std::chrono::hours(1);
  Pair() {
    init_sodium();
    Key ck{}, sk{};
    ck[0] = 1;
    sk[0] = 2;
    SecureConfig c, s;
    c.private_key = ck;
    c.peer_public = x25519_public(sk);
    s.initiator = false;
    s.private_key = sk;
    s.allowed = {x25519_public(ck)};
    client = std::make_unique<SecureSession>(c);
    server = std::make_unique<SecureSession>(s);
    std::vector<std::uint8_t> init(tund::proto::kInitiationSize);
    client->write_initiation(init.data(), now);
    Verdict r = server->receive(init.data(), init.size(), now);
    std::vector<std::uint8_t> response(r.data, r.data + r.size);
    client->receive(response.data(), response.size(), now);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Pair pair;
  if (size == 0) return 0;
  std::vector<std::uint8_t> copy(data, data + size);
  for (SecureSession* side : {pair.server.get(), pair.client.get()}) {
    std::memcpy(copy.data(), data, size);
    Verdict v = side->receive(copy.data(), copy.size(), pair.now);
    if (v.action == Action::deliver && !v.authenticated) std::abort();
  }
  return 0;
}
