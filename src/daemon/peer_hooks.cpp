#include "tund/daemon/peer_hooks.hpp"

#include <asio/post.hpp>

#include "tund/daemon/hooks.hpp"

namespace tund::daemon {

void PeerHooks::run(std::string what, std::string command, std::vector<std::string> environment) {
  if (stopped_ || command.empty()) return;
  if (queue_.size() >= kPeerHookQueue)
    return log_.warn("hook ", what, " not run: ", kPeerHookQueue, " peer hooks are waiting");
  queue_.push_back({std::move(what), std::move(command), std::move(environment)});
  if (running_) return;  // the running drain() takes it
  running_ = true;
  // From the top of the event loop, not from inside the engine's callback that reported
  // the peer's change.
  asio::post(io_, [this] { drain(); });
}

void PeerHooks::drain() {
  HookLimits limits;
  limits.timeout = kPeerHookTimeout;
  limits.interrupted = interrupted_;
  while (!queue_.empty() && !stopped_) {
    Job job = std::move(queue_.front());
    queue_.pop_front();
    try {
      run_hook(io_, job.what, job.command, job.environment, log_, limits);
    } catch (const std::exception& e) {
      log_.error("hook ", job.what, " could not run: ", e.what());
    }
  }
  running_ = false;
  // The hook ran the event loop itself, which undoes a stop asked for meanwhile (a stop
  // signal, a failed device): ask again, so the daemon's loop returns and shuts down.
  if (interrupted_ && interrupted_()) io_.stop();
}

}  // namespace tund::daemon
