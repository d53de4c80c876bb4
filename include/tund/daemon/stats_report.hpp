// Formats the engine's and transport's counters as one log line (SIGUSR1 and at exit).
#pragma once

#include <string>

#include "tund/crypto/secure_session.hpp"
#include "tund/device/tun_device.hpp"
#include "tund/link/responder.hpp"
#include "tund/transport/transport.hpp"
#include "tund/tunnel/engine.hpp"

namespace tund::daemon {

std::string format_stats(const tunnel::EngineStats& engine,
                         const transport::TransportStats& transport,
                         const crypto::SessionStats* session = nullptr);
std::string format_link_stats(const link::ResponderStats& link);
// `last_bad` says why the last unusable GSO read was dropped (empty: none was).
std::string format_offload_stats(const device::OffloadStats& offload, const std::string& last_bad);

}  // namespace tund::daemon
