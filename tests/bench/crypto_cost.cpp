// What a hub's crypto costs per peer, measured (a benchmark: it prints figures and never
// fails on them). For N clients (default 1000), each with its own key:
//  * CPU: consume_initiation + respond per initiation, in CPU time of this process (what
//    proto::kInitiationsPerSecond is chosen from), and the implied rate at half a core;
//  * memory: resident set, mappings and locked memory of the process before and after
//    creating N responder Sessions with one keypair each (the idle hub), per session.
// It uses only the public Identity/Session API, so the same source builds against an older
// tree for a before/after comparison in one run (tests/bench/crypto_cost.sh).
//   usage: crypto_cost [N=1000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "cpu_time.hpp"
#include "tund/crypto/identity.hpp"
#include "tund/crypto/session.hpp"
#include "tund/proto/wire.hpp"

namespace {

using namespace tund::crypto;
using Steady = std::chrono::steady_clock;

struct Footprint {
  long rss_kib = 0, locked_kib = 0, maps = 0;
};

long status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  return -1;
}

Footprint footprint() {
  Footprint f;
  f.rss_kib = status_kib("VmRSS");
  f.locked_kib = status_kib("VmLck");
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) ++f.maps;
  return f;
}

struct Client {
  std::unique_ptr<Identity> id;
  std::unique_ptr<Session> session;
  std::vector<std::byte> initiation;
};

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  if (n <= 0) return 2;
  init_sodium();
  Key server_key = random_private_key();
  std::vector<Client> clients(static_cast<std::size_t>(n));
  std::vector<Key> allowed;
  auto now = Clock::now();
  for (Client& c : clients) {
    Key k = random_private_key();
    allowed.push_back(x25519_public(k));
    c.id = std::make_unique<Identity>(IdentityConfig{k, std::nullopt, {}, false});
    SessionConfig cs;
    cs.peer_public = x25519_public(server_key);
    c.session = std::make_unique<Session>(*c.id, cs);
    c.initiation.resize(tund::proto::kInitiationSize);
    c.session->write_initiation(c.initiation.data(), now);
  }
  Identity server(IdentityConfig{server_key, std::nullopt, allowed, false});
  std::vector<std::unique_ptr<Session>> sessions;
  sessions.reserve(clients.size());
  Footprint before = footprint();
  auto start = Steady::now();
  double cpu_start = tund::bench::process_cpu_seconds();
  for (Client& c : clients) {
    SessionConfig ss;
    ss.initiator = false;
    sessions.push_back(std::make_unique<Session>(server, ss));
    auto result = server.consume_initiation(c.initiation, now);
    if (!std::holds_alternative<Initiation>(result)) return 1;
    if (sessions.back()->respond(std::move(std::get<Initiation>(result)), now).action !=
        Action::reply)
      return 1;
  }
  double seconds = std::chrono::duration<double>(Steady::now() - start).count();
  double cpu = tund::bench::process_cpu_seconds() - cpu_start;
  Footprint after = footprint();
  double per_us = cpu * 1e6 / n;
  std::printf("sessions %d\n", n);
  std::printf(
      "handshake cost (consume_initiation + respond): %.1f us CPU (%.1f us wall); half a core "
      "= %.0f/s\n",
      per_us, seconds * 1e6 / n, 0.5e6 / per_us);
  std::printf("rss before %ld KiB, after %ld KiB: %.2f KiB per idle session\n", before.rss_kib,
              after.rss_kib, double(after.rss_kib - before.rss_kib) / n);
  std::printf("mappings before %ld, after %ld: %.2f per session\n", before.maps, after.maps,
              double(after.maps - before.maps) / n);
  std::printf("locked before %ld KiB, after %ld KiB (RLIMIT_MEMLOCK caps it)\n", before.locked_kib,
              after.locked_kib);
  return 0;
}
