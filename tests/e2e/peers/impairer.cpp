// A network impairer for the fault tests (a test tool, not part of tund): an NFQUEUE
// consumer that holds every packet of its queue for DELAY ± JITTER milliseconds (uniform)
// before letting it through. Verdicts are issued in due-time order, so jitter reorders
// packets, as netem would (this kernel has no netem). On SIGTERM it prints how many packets
// it delayed and how many left out of order, then exits.
//   impairer QUEUE DELAY_MS JITTER_MS
#include <arpa/inet.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <queue>
#include <random>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Held {
  Clock::time_point due;
  std::uint32_t id;
  bool operator>(const Held& o) const { return due > o.due; }
};

std::priority_queue<Held, std::vector<Held>, std::greater<Held>> held;
std::mt19937 rng(4242);
int delay_ms = 50, jitter_ms = 20;
volatile std::sig_atomic_t stop = 0;
unsigned long delayed = 0, reordered = 0;
std::uint32_t highest_released = 0;

int on_packet(nfq_q_handle*, nfgenmsg*, nfq_data* nfa, void*) {
  std::uint32_t id = ntohl(nfq_get_msg_packet_hdr(nfa)->packet_id);
  std::uniform_int_distribution<int> d(delay_ms - jitter_ms, delay_ms + jitter_ms);
  held.push({Clock::now() + std::chrono::milliseconds(std::max(0, d(rng))), id});
  ++delayed;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: impairer QUEUE DELAY_MS JITTER_MS\n");
    return 2;
  }
  int queue = std::atoi(argv[1]);
  delay_ms = std::atoi(argv[2]);
  jitter_ms = std::atoi(argv[3]);
  std::signal(SIGTERM, [](int) { stop = 1; });
  std::signal(SIGINT, [](int) { stop = 1; });
  nfq_handle* h = nfq_open();
  if (!h) return std::perror("nfq_open"), 1;
  nfq_q_handle* qh = nfq_create_queue(h, static_cast<std::uint16_t>(queue), &on_packet, nullptr);
  if (!qh) return std::perror("nfq_create_queue"), 1;
  nfq_set_mode(qh, NFQNL_COPY_META, 0);
  nfq_set_queue_maxlen(qh, 65536);
  int fd = nfq_fd(h);
  std::vector<char> buf(65536);
  std::printf("impairer ready on queue %d: %d ms +- %d ms\n", queue, delay_ms, jitter_ms);
  std::fflush(stdout);
  while (!stop) {
    int timeout = 50;
    if (!held.empty()) {
      auto wait =
          std::chrono::duration_cast<std::chrono::milliseconds>(held.top().due - Clock::now());
      timeout = static_cast<int>(std::max<long>(0, std::min<long>(wait.count(), 50)));
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout) > 0) {
      ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n > 0) nfq_handle_packet(h, buf.data(), static_cast<int>(n));
    }
    while (!held.empty() && held.top().due <= Clock::now()) {
      Held x = held.top();
      held.pop();
      if (x.id < highest_released) ++reordered;
      highest_released = std::max(highest_released, x.id);
      nfq_set_verdict(qh, x.id, NF_ACCEPT, 0, nullptr);
    }
  }
  while (!held.empty()) {  // release what is still held rather than drop it
    nfq_set_verdict(qh, held.top().id, NF_ACCEPT, 0, nullptr);
    held.pop();
  }
  std::printf("delayed %lu packets, reordered %lu\n", delayed, reordered);
  nfq_destroy_queue(qh);
  nfq_close(h);
  return 0;
}
