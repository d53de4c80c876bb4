// `tund genkey`, `tund pubkey`, `tund genpsk`: key generation in the style of `wg`.
#pragma once

#include <string>

namespace tund::daemon {

// True when `command` is one of the key commands.
bool is_key_command(const std::string& command);
// Runs it with stdin/stdout; returns the exit status (errors: one line on stderr).
int run_key_command(const std::string& command);

}  // namespace tund::daemon
