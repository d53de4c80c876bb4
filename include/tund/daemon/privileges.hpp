// --user / --group: once the device and socket are open, tund stops being root. It keeps
// CAP_NET_ADMIN (and passes it to hooks as an ambient capability) so that a --down script
// can still remove routes and NAT rules; every other root power is gone.
#pragma once

#include <string>

namespace tund::daemon {

// Throws std::runtime_error with a one-line message on failure.
void drop_privileges(const std::string& user, const std::string& group);

}  // namespace tund::daemon
