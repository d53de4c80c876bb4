#include "swarm/swarm_run.hpp"

#include <csignal>
#include <cstdio>
#include <sstream>

#include "tund/proto/timers.hpp"

namespace tund::swarm {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

void say(const std::string& line) {
  std::fputs(("swarm: " + line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

struct Totals {
  std::size_t up = 0;
  std::uint64_t handshakes = 0, rx = 0, tx = 0, answered = 0, not_answered = 0, queue_drops = 0;
  PingStats ping;
};

Totals add_up(const std::vector<std::unique_ptr<SwarmClient>>& clients) {
  Totals t;
  for (const auto& c : clients) {
    const tunnel::PeerStats& peer = c->engine().peer().stats();
    const SwarmDeviceStats& dev = c->device().stats();
    const PingStats& ping = c->device().ping_stats();
    t.up += c->up() ? 1u : 0u;
    t.handshakes += c->engine().crypto_stats().handshakes_completed;
    t.rx += peer.rx_frames;
    t.tx += peer.tx_frames;
    t.answered += dev.answered;
    t.not_answered += dev.not_answered;
    t.queue_drops += dev.queue_drops;
    t.ping.sent += ping.sent;
    t.ping.replies += ping.replies;
    t.ping.rtt_total_us += ping.rtt_total_us;
    t.ping.rtt_max_us = std::max(t.ping.rtt_max_us, ping.rtt_max_us);
  }
  return t;
}

std::string rtt_text(const PingStats& ping) {
  if (ping.replies == 0) return "-/-";
  char text[64];
  std::snprintf(text, sizeof text, "%.3f/%.3f",
                static_cast<double>(ping.rtt_total_us) / static_cast<double>(ping.replies) / 1000.0,
                static_cast<double>(ping.rtt_max_us) / 1000.0);
  return text;
}

std::string pings_text(const PingStats& ping) {
  return std::to_string(ping.sent) + "/" + std::to_string(ping.replies);
}

}  // namespace

Swarm::Swarm(asio::io_context& io, RunOptions options)
    : io_(io),
      options_(std::move(options)),
      stop_signals_(io, SIGINT, SIGTERM),
      usr1_(io, SIGUSR1),
      tick_timer_(io),
      ping_timer_(io),
      report_timer_(io),
      start_timer_(io),
      exit_timer_(io) {
  clients_.reserve(options_.clients.size());
  for (std::size_t i = 0; i < options_.clients.size(); ++i) {
    auto id = static_cast<std::uint16_t>(i + 1);
    clients_.push_back(
        std::make_unique<SwarmClient>(io, options_.settings, options_.clients[i], id));
    clients_.back()->set_observer([this] { on_state(); });
  }
}

int Swarm::run() {
  const transport::RemoteServer& server = options_.settings.server;
  say("starting " + std::to_string(clients_.size()) + " clients (" +
      (options_.settings.udp ? "udp" : "tcp") + ") to " + server.host + ":" +
      std::to_string(server.port));
  started_ = std::chrono::steady_clock::now();
  stop_signals_.async_wait([this](std::error_code ec, int signal) {
    if (!ec) stop(signal == SIGINT ? "SIGINT" : "SIGTERM");
  });
  usr1_.async_wait([this](std::error_code ec, int) {
    if (!ec) report_each();
  });
  start_next();
  schedule(tick_timer_, proto::kTimerTick, &Swarm::tick);
  schedule(report_timer_, options_.report_interval, &Swarm::report);
  if (options_.ping && !clients_.empty()) schedule(ping_timer_, ping_step(), &Swarm::ping_some);
  if (options_.exit_after.count() > 0) {
    exit_timer_.expires_after(options_.exit_after);
    exit_timer_.async_wait([this](std::error_code ec) {
      if (!ec) stop("time is up");
    });
  }
  io_.run();
  if (!stopping_) stop("the event loop ran out of work");
  return options_.check && !healthy_at_stop_ ? 1 : 0;
}

// All at once, or --start-rate clients per second (one timer step per client).
void Swarm::start_next() {
  if (stopping_) return;
  do {
    if (started_count_ == clients_.size()) return;
    clients_[started_count_++]->start();
  } while (options_.start_rate <= 0);
  auto gap = std::chrono::duration<double>(1.0 / options_.start_rate);
  schedule(start_timer_, duration_cast<milliseconds>(gap), &Swarm::start_next);
}

void Swarm::on_state() {
  std::size_t up = 0;
  for (const auto& c : clients_) up += c->up() ? 1u : 0u;
  up_ = up;
  if (up_ < clients_.size() || all_up_reported_) return;
  all_up_reported_ = true;
  auto ms = duration_cast<milliseconds>(std::chrono::steady_clock::now() - started_).count();
  say("all " + std::to_string(clients_.size()) + " clients have a session after " +
      std::to_string(ms) + " ms");
}

void Swarm::tick() {
  for (auto& c : clients_) c->on_timer();
  schedule(tick_timer_, proto::kTimerTick, &Swarm::tick);
}

// Every client pings once per interval, the clients spread over kPingSlots steps of it:
// a thousand requests in one instant would measure the hub's socket buffer, not the hub.
void Swarm::ping_some() {
  std::size_t slots = std::min(kPingSlots, clients_.size());
  for (std::size_t i = ping_slot_; i < clients_.size(); i += slots)
    if (clients_[i]->up()) clients_[i]->send_ping(*options_.ping);
  ping_slot_ = (ping_slot_ + 1) % slots;
  schedule(ping_timer_, ping_step(), &Swarm::ping_some);
}

std::chrono::milliseconds Swarm::ping_step() const {
  auto slots = static_cast<long>(std::min(kPingSlots, clients_.size()));
  return std::max(std::chrono::milliseconds(1), options_.ping_interval / slots);
}

void Swarm::report() {
  Totals t = add_up(clients_);
  auto ms = duration_cast<milliseconds>(std::chrono::steady_clock::now() - started_).count();
  std::ostringstream line;
  line << "t=" << ms / 1000 << "." << (ms % 1000) / 100 << "s up " << t.up << "/" << clients_.size()
       << " handshakes " << t.handshakes << " rx " << t.rx << " tx " << t.tx << " answered "
       << t.answered << " pings " << pings_text(t.ping) << " rtt " << rtt_text(t.ping)
       << " ms not-answered " << t.not_answered << " queue-drops " << t.queue_drops;
  say(line.str());
  if (!stopping_) schedule(report_timer_, options_.report_interval, &Swarm::report);
}

void Swarm::report_each() {
  for (const auto& c : clients_) {
    const auto& peer = c->engine().peer();
    std::ostringstream line;
    line << c->name() << (c->up() ? " up " : " down ") << peer.name() << " rx "
         << peer.stats().rx_frames << " tx " << peer.stats().tx_frames << " answered "
         << c->device().stats().answered << " pings " << pings_text(c->device().ping_stats());
    say(line.str());
  }
  usr1_.async_wait([this](std::error_code ec, int) {
    if (!ec) report_each();
  });
}

void Swarm::stop(const std::string& why) {
  if (stopping_) return;
  stopping_ = true;
  say("stopping (" + why + ")");
  // The last counters and the check see the clients as they ran, before stop() ends their
  // sessions.
  report();
  healthy_at_stop_ =
      add_up(clients_).up == clients_.size() && (!options_.ping || all_answered_pings());
  for (auto* timer : {&tick_timer_, &ping_timer_, &report_timer_, &start_timer_, &exit_timer_})
    timer->cancel();
  stop_signals_.cancel();
  usr1_.cancel();
  for (auto& c : clients_) c->stop();
  io_.stop();
}

bool Swarm::all_answered_pings() const {
  for (const auto& c : clients_)
    if (c->device().ping_stats().replies == 0) return false;
  return true;
}

void Swarm::schedule(asio::steady_timer& timer, milliseconds after, void (Swarm::*what)()) {
  timer.expires_after(after);
  timer.async_wait([this, what](std::error_code ec) {
    if (!ec && !stopping_) (this->*what)();
  });
}

}  // namespace tund::swarm
