// `tund genkey`, `tund genpsk`, `tund pubkey`: key generation in the style of `wg`. Each
// reads and writes only its standard streams and takes no argument: `--help` (or `-h`)
// prints its usage (status 0); anything else is a usage error naming its own usage
// (status 2). `pubkey` reads the private key on standard input.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tund::daemon {

// True when `word` is one of the key commands.
bool is_key_command(const std::string& word);

struct KeyCommandExit {
  int status;          // 0 for --help, 2 for a usage error
  std::string output;  // stdout for status 0, else stderr
};
// What `args` (args[0] is the command) ask for before any key is made or read: nothing
// (run the command), or the help or usage error to print.
std::optional<KeyCommandExit> key_command_usage(const std::vector<std::string>& args);

// Runs it with stdin/stdout; returns the exit status (errors: one line on stderr).
int run_key_command(const std::vector<std::string>& args);

}  // namespace tund::daemon
