// How the daemon learns that the engine can no longer do its job (the device is gone):
// Engine::set_failure_handler (called once; the engine has stopped itself) and
// Engine::healthy() (the watchdog is fed only while it holds).
//
// TEMPORARY SHIM until helper A's engine is merged: the `if constexpr` lets this branch
// compile against an Engine without that API (then: no failure handler, always healthy).
// At merge, replace both bodies by the direct calls.
#pragma once

#include <concepts>
#include <functional>
#include <string>

namespace tund::daemon {

template <class Engine>
void set_engine_failure_handler(Engine& engine, std::function<void(const std::string&)> handler) {
  if constexpr (requires(Engine & e) { e.set_failure_handler(handler); })
    engine.set_failure_handler(std::move(handler));
}

template <class Engine>
bool engine_healthy(const Engine& engine) {
  if constexpr (requires(const Engine& e) {
                  { e.healthy() } -> std::convertible_to<bool>;
                })
    return engine.healthy();
  else
    return true;
}

}  // namespace tund::daemon
