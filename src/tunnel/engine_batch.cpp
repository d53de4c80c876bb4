// The cipher work of a batch, on the workers (--threads; engine.hpp has the overview).
// The event loop's thread keeps every decision: routing, sessions' counters and replay
// windows, peers' state, the device and the sockets. Only each frame's AEAD, which needs
// nothing but its key and its own bytes, is spread over util::WorkerPool: one hand-off
// per batch, never a lock per packet.
//
// Seals: while a device batch is read, encrypted frames are committed with their header
// and counter written and the AEAD left as a job (crypto::SealJob); the transport calls
// run_seals() before any committed message leaves or is discarded (its before-send hook),
// and the batch's end runs it too, so nothing unsealed is ever sent and no job outlives
// its keypair (keypairs only change on inbound messages, timers and control requests,
// none of which run inside a device batch).
// Opens: a transport message whose peer and keypair are known is checked (age, replay
// window) and queued (crypto::OpenJob); at the end of the socket read (recvmmsg, one TCP
// read) — or before any other message or event that could change a session — the batch
// is decrypted on the workers and then finished in arrival order (replay window, keypair
// confirmation, endpoint, delivery), exactly as one message at a time would be.
#include "tund/tunnel/engine.hpp"

namespace tund::tunnel {
namespace {

template <class Job>
void run_batch(util::WorkerPool& workers, std::size_t count, std::size_t bytes, Job& job) {
  workers.run(count, job, bytes >= kParallelBytes);
}

}  // namespace

Engine::DeferredSeals::DeferredSeals(Engine& engine) : engine_(engine) {
  engine_.defer_seals_ = engine_.batching();
}

Engine::DeferredSeals::~DeferredSeals() {
  engine_.defer_seals_ = false;
  engine_.run_seals();
}

bool Engine::batching() const {
  return identity_ && workers_ && workers_->threads() > 1;
}

// A message the transport refused leaves its slot to the next one: its seal must not run
// (it would seal the next message's bytes, at the same time as that one's own job).
void Engine::commit(const transport::Endpoint& to, std::size_t size) {
  if (!transport_.commit(to, size) && defer_seals_ && !seals_.empty()) seals_.pop_back();
}

void Engine::run_seals() {
  if (seals_.empty()) return;
  std::size_t bytes = 0;
  for (const crypto::SealJob& job : seals_) bytes += job.frame_size;
  auto seal = [this](std::size_t i) { seals_[i].run(); };
  run_batch(*workers_, seals_.size(), bytes, seal);
  seals_.clear();
}

void Engine::defer_open(Peer& peer, const transport::Endpoint& from, util::ByteSpan message,
                        std::uint32_t receiver_index) {
  crypto::Verdict refusal;
  auto job = peer.prepare_open(message, receiver_index, clock_.now(), refusal);
  if (!job) return refused(from, refusal.reason);
  opens_.push_back({&peer, from, *job});
}

// The batch is swapped out first: finishing one may close an endpoint, whose event
// settles the engine again (then with nothing pending).
void Engine::run_opens() {
  if (opens_.empty()) return;
  finishing_.swap(opens_);
  std::size_t bytes = 0;
  for (const PendingOpen& p : finishing_) bytes += p.job.size;
  auto open = [this](std::size_t i) { finishing_[i].job.run(); };
  run_batch(*workers_, finishing_.size(), bytes, open);
  auto now = clock_.now();
  for (const PendingOpen& p : finishing_) {
    if (stopped_) break;
    crypto::Verdict v = p.peer->finish_open(p.from, p.job, now);
    if (v.action == crypto::Action::drop)
      refused(p.from, v.reason);
    else if (v.action == crypto::Action::deliver)
      deliver_from(*p.peer, {v.data, v.size});
  }
  finishing_.clear();
}

void Engine::settle() {
  run_opens();
  run_seals();
}

}  // namespace tund::tunnel
