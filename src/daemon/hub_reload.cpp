// Hub mode's SIGHUP: the whole configuration is read again and checked (the command line
// re-parsed, so the config file and the peers directory are read as at start); on any
// error nothing changes and the error is logged. Then the peers are applied as a diff by
// key (tunnel::Engine::set_hub_peers): added, removed (cut at once), changed in place;
// unchanged peers keep their sessions. Options only a restart can apply are named.
#include <algorithm>
#include <chrono>
#include <variant>

#include "daemon_impl.hpp"
#include "tund/config/cli.hpp"
#include "tund/daemon/hub_peers.hpp"
#include "tund/daemon/stats_report.hpp"

namespace tund::daemon {
namespace {

// The parser's one-line error without what suits a terminal ("tund: error: ... (see tund
// --help)"): here it follows "keeping the running configuration: ".
std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  const std::string head = "tund: error: ", tail = " (see tund --help)";
  if (line.rfind(head, 0) == 0) line.erase(0, head.size());
  if (line.size() >= tail.size() && line.compare(line.size() - tail.size(), tail.size(), tail) == 0)
    line.erase(line.size() - tail.size());
  return line;
}

// "received SIGHUP" -> "SIGHUP": a line that is not the reload's own (tests count those).
std::string short_cause(const std::string& cause) {
  const std::string head = "received ";
  return cause.rfind(head, 0) == 0 ? cause.substr(head.size()) : cause;
}

}  // namespace

void Daemon::on_sighup() {
  try {
    reload("received SIGHUP");
  } catch (const std::exception&) {  // logged by reload()
  }
}

// SIGHUP and the control socket's reload: logs "CAUSE: what changed" and returns what
// changed; or logs why nothing did and throws it (one line).
std::string Daemon::reload(const std::string& cause) {
  if (!cfg_.hub()) return reloader_.reload(cause);
  if (!engine_) {
    log_.info(cause, " during start-up: nothing to reload yet");
    throw std::runtime_error("tund is starting: nothing to reload yet");
  }
  notifier_.reloading();
  std::string done;
  try {
    done = reload_hub(cause);
  } catch (const std::exception& e) {
    log_.warn(cause, ": keeping the running configuration: ", e.what());
    notifier_.reloaded("serving " + std::to_string(engine_->peers().size()) + " peers");
    throw std::runtime_error(std::string("keeping the running configuration: ") + e.what());
  }
  log_.info(cause, ": ", done);
  notifier_.reloaded("serving " + std::to_string(engine_->peers().size()) + " peers");
  return done;
}

// Throws std::runtime_error (one line) with nothing changed.
config::Config Daemon::reread_config() {
  auto parsed = config::parse_command_line(args_);
  if (auto* exit = std::get_if<config::CliExit>(&parsed))
    throw std::runtime_error(first_line(exit->output));
  auto fresh = std::get<config::Config>(std::move(parsed));
  if (!fresh.hub())
    throw std::runtime_error("peers-dir is gone from it, which only a restart can apply");
  return fresh;
}

std::string Daemon::reload_hub(const std::string& cause) {
  auto started = std::chrono::steady_clock::now();
  config::Config fresh = reread_config();
  std::vector<crypto::Key> known;
  for (const auto& peer : engine_->peers())
    if (peer->public_key()) known.push_back(*peer->public_key());
  std::sort(known.begin(), known.end());
  // KeyError, or a psk file that cannot be read: thrown with nothing changed.
  std::vector<tunnel::HubPeerSpec> specs = hub_peer_specs(fresh, known);
  tunnel::HubChanges changes = engine_->set_hub_peers(specs);
  sync_routes(fresh, specs);
  // Against the start-up configuration, not the last one read: these options never take
  // effect on a reload, so what runs is still what tund started with (a change reverted in
  // the file is no change; one left in it is still pending at the next reload).
  std::vector<std::string> pending = needs_restart(cfg_, fresh);
  for (const auto& option : pending)
    log_.warn(short_cause(cause), ": ", option, " changed; restart tund to apply it");
  hub_cfg_ = std::move(fresh);
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  std::string done = "reloaded the peers directory in ";
  done += std::to_string(took.count() / 1000);
  done += ".";
  done += std::to_string((took.count() % 1000) / 100);
  done += " ms: ";
  done += tunnel::describe(changes, specs.size());
  // The reply of `tund reload` too, so the operator sees it without reading the log.
  for (std::size_t i = 0; i < pending.size(); ++i)
    done += (i == 0 ? "; changed, applied only by a restart: " : ", ") + pending[i];
  return done;
}

void Daemon::sync_routes(const config::Config& cfg, const std::vector<tunnel::HubPeerSpec>& peers) {
  if (cfg.routes == config::Routes::off) return routes_.clear(dev_->name());
  for (const auto& peer : peers)
    for (const auto& prefix : peer.allowed_ips)
      if (prefix.length == 0)
        log_.warn("routes: no route for ", util::to_string(prefix), " of peer ", peer.name,
                  " (it would take over this host's default route; add it yourself, with "
                  "routes = off)");
  // The device's addresses are those tund started with (a reload cannot change them).
  routes_.sync(dev_->name(), routed_prefixes(cfg_.addresses, peers));
}

void Daemon::report_hub_peers() {
  std::size_t up = 0;
  for (const auto& peer : engine_->peers()) {
    if (peer->up()) ++up;
    log_.info(format_peer_stats(*peer));
  }
  const auto& stats = engine_->stats();
  const auto& dropped = stats.dropped;
  if (cfg_.device == config::DeviceKind::tap)
    log_.info("switch: macs ", engine_->macs_learned(), " moves ", stats.mac_moves,
              " refused-sources ", stats.mac_refused);
  log_.info("hub: ", engine_->peers().size(), " peers, ", up, " up; dropped: spoofed ",
            dropped[tunnel::Drop::spoofed], " queue-full ", dropped[tunnel::Drop::queue_full],
            " link-local ", dropped[tunnel::Drop::link_local]);
}

}  // namespace tund::daemon
