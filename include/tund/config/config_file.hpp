// Config files: every long command-line option as `name = value`, one per line, with
// `#` comments and blank lines; flags take true/false (or yes/no, on/off); options that
// may repeat (allow) may repeat. The file is turned into command-line arguments that go
// *before* the real ones, so the command line wins. An unknown name is an error that names
// the name, the file and the line.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace tund::config {

class ConfigFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string name;  // long name without dashes, e.g. "iface"
  bool flag;         // takes no value on the command line
};

// Parses `text` (from `path`, for messages) into arguments such as {"--iface", "tun3"}.
std::vector<std::string> config_to_args(const std::string& text, const std::string& path,
                                        const std::vector<OptionSpec>& options);

}  // namespace tund::config
