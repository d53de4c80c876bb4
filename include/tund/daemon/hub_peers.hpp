// Hub mode's peers as the engine takes them: the peers directory's enabled files
// (config::PeerSpec, parsed and checked by the config module) with their keys decoded and
// checked and their psk files read. The one place start-up and SIGHUP reload get them
// from, so both refuse the same bad input.
#pragma once

#include <string>
#include <vector>

#include "tund/config/config.hpp"
#include "tund/tunnel/hub.hpp"

namespace tund::daemon {

// Throws crypto::KeyError with one line naming the peer file and line
// ("/etc/tund/office.peers/alice line 1: public-key: ...") for a key that is not a usable
// curve point or a psk file that cannot be read. Disabled peers are left out. A peer
// without keepalive takes the server's --keepalive.
// `known`: keys checked before (the running hub's peers, sorted), not checked again.
std::vector<tunnel::HubPeerSpec> hub_peer_specs(const config::Config& cfg,
                                                const std::vector<crypto::Key>& known = {});

// Options a reload cannot apply (the device, the socket, the mode): their long names.
std::vector<std::string> needs_restart(const config::Config& running, const config::Config& fresh);

}  // namespace tund::daemon
