// Formats the engine's and transport's counters as one log line (SIGUSR1 and at exit).
#pragma once

#include <string>

#include "tund/crypto/secure_session.hpp"
#include "tund/link/responder.hpp"
#include "tund/transport/transport.hpp"
#include "tund/tunnel/engine.hpp"

namespace tund::daemon {

std::string format_stats(const tunnel::EngineStats& engine,
                         const transport::TransportStats& transport,
                         const crypto::SessionStats* session = nullptr);
std::string format_link_stats(const link::ResponderStats& link);

}  // namespace tund::daemon
